import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests share one Redis and spawn child processes; two forks keep the 2-core machine responsive.
    pool: 'forks',
    maxWorkers: 2,
  },
});
