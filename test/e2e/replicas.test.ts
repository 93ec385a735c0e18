import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/core/clock.js';
import { Daemon } from '../../src/daemon.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

let sandbox: Sandbox;
let env: TestRedis;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 77 });
  env = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-replicas-'));
});
afterAll(async () => {
  await sandbox.close();
  await env.cleanup();
  await rm(dir, { recursive: true, force: true });
});

function configText(prefix: string): string {
  return `
redis:
  url: ${REDIS_URL}
  key_prefix: "${prefix}"
http:
  port: 0
shutdown_grace: 5s
gcp:
  project: \${VIGIL_GCP_PROJECT}
  endpoint: \${VIGIL_GCP_ENDPOINT}
collectors:
  - id: coverage
    kind: bigquery-sql
    interval: 1s
    options:
      metric: vegas_line_coverage
      expect_latest: false
      query: SELECT game_date, 1.0 AS value FROM nba_predictions.ml_feature_store_v2 WHERE game_date = @end_date LIMIT 1
`;
}

async function skippedRuns(replicas: readonly Daemon[]): Promise<number> {
  let total = 0;
  for (const replica of replicas) {
    const runs = await replica.metrics.getSingleMetric('vigil_collector_runs_total')?.get();
    for (const value of runs?.values ?? []) if (value.labels.outcome === 'skipped') total += value.value;
  }
  return total;
}

describe('two daemons sharing one Redis', () => {
  it('run each scheduled tick exactly once (counted in the sandbox request log)', async () => {
    const file = join(dir, 'vigil.yaml');
    await writeFile(file, configText(env.prefix.slice(0, -1)));
    const config = await loadConfig(file, { ...sandbox.env, NO_PROXY: '127.0.0.1' });
    const clock = new ManualClock(sandbox.clock.now());
    const replicas = ['a', 'b'].map(
      (replica) =>
        new Daemon({ ...config, replica_id: replica }, { logger: pino({ level: 'silent' }), clock }),
    );
    const start = sandbox.requests().at(-1)?.seq ?? 0;
    const queries = () =>
      sandbox.requests(start).filter((request) => request.route === 'bigquery.query').length;

    await Promise.all(replicas.map((replica) => replica.start()));
    await waitFor('six scheduled ticks', () => (queries() >= 6 ? true : undefined), 30_000);
    await Promise.all(replicas.map((replica) => replica.stop()));
    // A loaded machine can make a run overlap the next tick, which is then skipped on purpose
    // (counted, never queued behind it): such a tick sends no query.
    const skipped = await skippedRuns(replicas);

    const queue = new Queue('ticks', { connection: env.redis, prefix: env.prefix.slice(0, -1) });
    const jobs = await queue.getJobs(['completed', 'failed']);
    await queue.close();
    // Scheduler job ids end with their slot time: a tick run by both replicas, or scheduled twice,
    // would show as more queries than jobs, or as two jobs for one slot.
    const slots = new Set(jobs.map((job) => String(job.id).split(':').at(-1)));
    expect(jobs.length).toBeGreaterThanOrEqual(6);
    expect(queries()).toBe(jobs.length - skipped);
    expect(slots.size).toBe(jobs.length);
  });
});
