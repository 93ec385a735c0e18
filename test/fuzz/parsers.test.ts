import fc from 'fast-check';
import { describe, it } from 'vitest';
import { TARGETS } from './parsers.js';

// A sample of `npm run fuzz` (10,000 cases per parser): enough to catch a regression in the oracle.
const RUNS = 300;

describe('parsers under fuzzing: a valid result or a located error, never a crash', () => {
  it.each(Object.keys(TARGETS) as (keyof typeof TARGETS)[])('%s', async (name) => {
    await fc.assert(TARGETS[name] as fc.IAsyncProperty<unknown[]>, { numRuns: RUNS });
  });
});
