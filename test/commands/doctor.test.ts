import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/commands/doctor.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { capture } from '../support/capture.js';
import { freePort } from '../support/process.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/redis-server.js';

/** `vigil doctor` against the sandbox, healthy and broken one way at a time. */
let sandbox: Sandbox;
let redis: TestRedis;
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 77, operationDelayMs: 10 });
});
afterAll(async () => {
  await sandbox?.close();
});
beforeEach(async () => {
  redis = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-doctor-'));
  // The config reads these through ${VAR} and the environment overrides.
  Object.assign(process.env, sandbox.env, {
    NO_PROXY: '127.0.0.1',
    VIGIL_REDIS_URL: REDIS_URL,
    VIGIL_KEY_PREFIX: redis.prefix.slice(0, -1),
    VIGIL_DATA_DIR: join(dir, 'data'),
    VIGIL_NOW: new Date(sandbox.clock.now()).toISOString(),
  });
});
afterEach(async () => {
  process.env = { ...saved };
  sandbox.faults.clear();
  await redis.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function doctor(config = 'examples/nba-props.yaml'): Promise<{ code: number; lines: string[] }> {
  const out = capture();
  const err = capture();
  const code = await runDoctor(config, { stdout: out.stream, stderr: err.stream }, { timeoutMs: 15_000 });
  expect(err.text()).toBe('');
  return { code, lines: out.text().trimEnd().split('\n') };
}

const line = (lines: readonly string[], check: string): string =>
  lines.find((text) => text.slice(6).startsWith(`${check}:`)) ?? `(no line for ${check})`;

describe('vigil doctor', () => {
  it('passes every check against the sandbox (exit 0), one line each', async () => {
    const { code, lines } = await doctor();

    expect(code).toBe(0);
    expect(lines.at(-1)).toMatch(/^all \d+ checks pass$/);
    for (const check of [
      'google credentials',
      'redis',
      'audit dir',
      'policy',
      'collector vegas-line-coverage',
      'collector deployment-drift',
    ])
      expect(line(lines, check)).toMatch(/^ok {4}/);
    expect(lines.filter((text) => text.startsWith('FAIL'))).toEqual([]);
    // The policy's targets: read, with the role acting needs; a dry-run rule's missing job only warns.
    expect(line(lines, 'remediation target job grading-backfill')).toMatch(
      /^ok {4}.*readable; acting on it needs roles\/run\.developer/,
    );
    expect(line(lines, 'remediation target service nba-phase4-precompute-processors')).toMatch(/^ok {4}/);
    expect(line(lines, 'remediation target job nba-phase3-analytics')).toMatch(
      /^WARN {2}.*does not exist in project nba-props-platform region us-west2 \(its rules do not act yet\) — fix: /,
    );
  });

  it('a dataset it cannot read (403): the collector line names the project and the role to grant', async () => {
    sandbox.faults.add({
      endpoint: 'bigquery.query',
      status: 403,
      latency_ms: 0,
      probability: 1,
      message: 'Access Denied: Table nba-props-platform:nba_analytics.games',
    });

    const { code, lines } = await doctor();

    expect(code).toBe(1);
    expect(line(lines, 'collector vegas-line-coverage')).toMatch(
      /^FAIL {2}collector vegas-line-coverage: .*HTTP 403 Access Denied.* — permission denied in project nba-props-platform: grant vigil's service account roles\/bigquery\.jobUser/,
    );
  });

  it('git unreachable: names the repository (credentials scrubbed) and the fix', async () => {
    process.env.VIGIL_GIT_URL = 'https://vigil:s3cret-token@127.0.0.1:1/platform.git';

    const { code, lines } = await doctor();

    expect(code).toBe(1);
    const git = lines.find((text) => text.includes('git https://')) ?? '';
    expect(git).toMatch(
      /^FAIL {2}git https:\/\/<secret>@127\.0\.0\.1:1\/platform\.git: unreachable: .* — fix: check the URL and network/,
    );
    expect(lines.join('\n')).not.toContain('s3cret-token');
  });

  it('audit dir not writable (a path under a regular file binds root too)', async () => {
    await writeFile(join(dir, 'file'), 'not a directory');
    process.env.VIGIL_DATA_DIR = join(dir, 'file', 'data');

    const { code, lines } = await doctor();

    expect(code).toBe(1);
    expect(line(lines, 'audit dir')).toMatch(
      /^FAIL {2}audit dir: .* is not writable \(ENOTDIR\).* — fix: point data_dir/,
    );
  });

  it('no Google credentials: one line with the fix, and the collectors say the same', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    // Real Google endpoints, but no key, no gcloud config, no metadata server; any stray request goes to a closed loopback port.
    delete process.env.VIGIL_GCP_ENDPOINT;
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    Object.assign(process.env, {
      HOME: dir,
      CLOUDSDK_CONFIG: dir,
      METADATA_SERVER_DETECTION: 'none',
      GCE_METADATA_HOST: closed,
      HTTPS_PROXY: `http://${closed}`,
      HTTP_PROXY: `http://${closed}`,
      NO_PROXY: '127.0.0.1',
      https_proxy: `http://${closed}`,
      no_proxy: '127.0.0.1',
    });

    const { code, lines } = await doctor();

    expect(code).toBe(1);
    expect(line(lines, 'google credentials')).toMatch(
      /^FAIL {2}google credentials: no Google credentials found .* — fix: set GOOGLE_APPLICATION_CREDENTIALS/,
    );
    expect(line(lines, 'collector vegas-line-coverage')).toContain(
      'no Google credentials found for BigQuery at bigquery.googleapis.com',
    );
  });

  describe('on an evicting Redis', () => {
    let lru: ThrowawayRedis;
    beforeAll(async () => {
      lru = await startThrowawayRedis(['--maxmemory-policy', 'allkeys-lru']);
    });
    afterAll(async () => {
      await lru?.stop();
    });

    it('fails the redis check and says to set noeviction', async () => {
      process.env.VIGIL_REDIS_URL = lru.url;

      const { code, lines } = await doctor();

      expect(code).toBe(1);
      expect(line(lines, 'redis')).toMatch(
        /^FAIL {2}redis: .* has maxmemory-policy allkeys-lru: .* — fix: set maxmemory-policy noeviction/,
      );
    });
  });
});
