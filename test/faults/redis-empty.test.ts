import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnVigil, type VigilProcess, waitForHttpUrl } from '../support/process.js';
import { startThrowawayRedis } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { useDrill } from './support.js';

// Drill 2 of issue 10: Redis restarted empty. Before, the collector schedulers were upserted only
// at start: for over 60 s after Redis came back no replica collected anything, while /readyz said
// 200 on all of them. Now every replica checks the schedulers every second and on reconnect, and
// readiness says so while they are missing.
const env = useDrill({ services: 2 });

function config(redisUrl: string): string {
  return `
redis:
  url: ${redisUrl}
  key_prefix: vigil-empty
  max_retry_delay: 500ms
http:
  port: 0
shutdown_grace: 5s
gcp:
  project: \${VIGIL_GCP_PROJECT}
  endpoint: \${VIGIL_GCP_ENDPOINT}
collectors:
  - id: probe-sql
    kind: bigquery-sql
    interval: 1s
    options:
      metric: probe_value
      expect_latest: false
      query: SELECT CURRENT_DATE() AS game_date, 1.0 AS value
`;
}

async function readyz(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return 0;
  }
}

describe('Redis restarted empty', () => {
  it('two replicas put the schedulers back and collect again within seconds, ready again', async () => {
    const { sandbox, dir } = env();
    let redis = await startThrowawayRedis();
    const file = join(dir, 'vigil.yaml');
    await writeFile(file, config(redis.url));
    const replicas: VigilProcess[] = ['a', 'b'].map((replica) =>
      spawnVigil(['run', '-c', file], {
        ...sandbox.env,
        NO_PROXY: '127.0.0.1',
        VIGIL_REPLICA_ID: replica,
        VIGIL_DATA_DIR: join(dir, replica),
        VIGIL_LOG_LEVEL: 'info',
      }),
    );
    try {
      const urls = await Promise.all(replicas.map((replica) => waitForHttpUrl(replica, 30_000)));
      const queries = (after: number) =>
        sandbox.requests(after).filter((request) => request.route === 'bigquery.query').length;
      await waitFor('collecting', () => (queries(0) >= 2 ? true : undefined), 30_000);

      await redis.stop();
      redis = await startThrowawayRedis([], redis.port);
      const back = performance.now();
      const mark = sandbox.requests().at(-1)?.seq ?? 0;
      const resumed = await waitFor(
        'a tick after Redis came back',
        () => (queries(mark) > 0 ? true : undefined),
        30_000,
      );
      const resumeSeconds = (performance.now() - back) / 1_000;
      const ready = await waitFor(
        'both replicas ready again',
        async () =>
          (await Promise.all(urls.map(readyz))).every((status) => status === 200) ? true : undefined,
        30_000,
      );

      expect(resumed && ready).toBe(true);
      // The promise is 5 s; the bound here leaves room for a loaded machine, and the old code never resumed.
      expect(resumeSeconds).toBeLessThan(20);
      process.stdout.write(
        `redis-empty drill: collection resumed ${resumeSeconds.toFixed(1)} s after Redis came back\n`,
      );
    } finally {
      for (const replica of replicas) replica.child.kill('SIGKILL');
      await redis.stop();
    }
  }, 120_000);
});
