import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStatus } from '../../src/commands/status.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { CounterStore } from '../../src/policies/counters.js';
import { StatusReader } from '../../src/status/read-model.js';
import { StatusRecorder } from '../../src/status/recorder.js';
import type { StatusOverview } from '../../src/status/types.js';
import { redisKeys } from '../../src/store/keys.js';
import { coverageFinding } from '../status/fixtures.js';
import { capture } from '../support/capture.js';
import { freePort } from '../support/process.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';

const T0 = 1_770_000_000_000;
let t: TestRedis;
let dir: string;
let config: string;
let prefix: string;
const clock = new ManualClock(T0);

beforeEach(async () => {
  t = await testRedis();
  prefix = t.prefix.slice(0, -1);
  dir = await mkdtemp(join(tmpdir(), 'vigil-status-'));
  config = join(dir, 'vigil.yaml');
  await writeFile(config, `redis:\n  url: ${REDIS_URL}\n  key_prefix: "${prefix}"\n`);
});
afterEach(async () => {
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function status(options: { json?: boolean; file?: string; url?: string } = {}) {
  const stdout = capture();
  const stderr = capture();
  const code = await runStatus(
    options.url ? { url: options.url } : { config: options.file ?? config, json: options.json },
    { stdout: stdout.stream, stderr: stderr.stream },
    {},
    clock,
  );
  return { code, out: stdout.text(), err: stderr.text() };
}

describe('vigil status', () => {
  it('exit 0 and a table with the open finding while nothing needs a human', async () => {
    await new StatusRecorder(
      t.redis,
      redisKeys(prefix),
      'r1',
      clock,
      createLogger({ level: 'silent' }),
    ).findings([coverageFinding()]);

    const { code, out, err } = await status();

    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(`vigil status at ${new Date(T0).toISOString().replace('.000Z', 'Z')}: HEALTHY`);
    expect(out).toMatch(
      /open findings\n\s+id\s+severity\s+series.*\n\s+f-coverage\s+critical\s+vegas_line_coverage\s+44\.6/,
    );
  });

  it('exit 1 while a breaker is open; --json is the API read model', async () => {
    await new CounterStore({ redis: t.redis, keys: redisKeys(prefix), clock }).openBreaker(
      'restart-service',
      'prediction-worker',
      T0 + 60_000,
    );

    const table = await status();
    const json = await status({ json: true });

    expect(table.code).toBe(1);
    expect(table.out).toContain('ATTENTION');
    expect(table.out).toMatch(/breaker open on restart-service prediction-worker/);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.out) as StatusOverview;
    expect(parsed.breakers).toEqual([
      { kind: 'restart-service', target: 'prediction-worker', openUntil: T0 + 60_000 },
    ]);
  });

  it('exit 2 with the located problem for a bad config; exit 1 when Redis does not answer', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'redis:\n  url: http://nope\n');
    const unreachable = join(dir, 'unreachable.yaml');
    await writeFile(unreachable, 'redis:\n  url: redis://127.0.0.1:1\n  connect_timeout: 500ms\n');

    const invalid = await status({ file: bad });
    const down = await status({ file: unreachable });

    expect(invalid.code).toBe(2);
    expect(invalid.err).toMatch(/bad\.yaml:2 redis\.url: /);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^error: cannot read status: no Redis at redis:\/\/127\.0\.0\.1:1/);
  });

  it('--url reads a running replica: its answer decides the exit code', async () => {
    await new CounterStore({ redis: t.redis, keys: redisKeys(prefix), clock }).openBreaker(
      'run-job',
      'backfill',
      T0 + 60_000,
    );
    const reader = new StatusReader({ redis: t.redis, keys: redisKeys(prefix), clock });
    const server = createServer((_request, response) => {
      void reader.overview().then((overview) => response.end(JSON.stringify(overview)));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    const closed = await freePort();

    const up = await status({ url: `http://127.0.0.1:${port}` });
    const down = await status({ url: `http://127.0.0.1:${closed}` });
    const neither = await status({ file: '' });
    server.close();

    expect(up.code).toBe(1);
    expect(up.out).toMatch(/breaker open on run-job backfill/);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(
      new RegExp(`^error: cannot read status: http://127\\.0\\.0\\.1:${closed} did not answer`),
    );
    expect(neither.code).toBe(2);
  });
});
