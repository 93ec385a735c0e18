import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { systemClock } from '../src/core/clock.js';
import { Daemon } from '../src/daemon.js';
import { capture } from './support/capture.js';
import { startTestServer } from './support/http.js';
import { freePort, spawnVigil, type VigilProcess, waitForHttpUrl } from './support/process.js';
import { REDIS_URL } from './support/redis.js';
import { startThrowawayRedis } from './support/redis-server.js';
import { waitFor } from './support/wait.js';

const CRASH_FIXTURE = fileURLToPath(new URL('./fixtures/crash-after-start.ts', import.meta.url));
let dir: string;
const children: (VigilProcess | ChildProcess)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-daemon-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    const process = 'child' in child ? child.child : child;
    if (process.exitCode === null && process.signalCode === null) process.kill('SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(body: string): Promise<string> {
  const file = join(dir, 'vigil.yaml');
  await writeFile(file, body);
  return file;
}

function startVigil(configFile: string, env: Record<string, string> = {}): VigilProcess {
  const vigil = spawnVigil(['run', '-c', configFile], env);
  children.push(vigil);
  return vigil;
}

async function status(url: string): Promise<{ code: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return { code: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('vigil run (child process, real Redis)', () => {
  it('becomes ready, then exits 0 on SIGTERM within the grace period', async () => {
    const config = await writeConfig(`redis:\n  url: ${REDIS_URL}\nhttp:\n  port: 0\nshutdown_grace: 5s\n`);
    const vigil = startVigil(config);
    const url = await waitForHttpUrl(vigil);

    await waitFor('ready', async () => ((await status(`${url}/readyz`)).code === 200 ? true : undefined));
    expect(await status(`${url}/healthz`)).toEqual({ code: 200, body: { status: 'ok' } });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect(metrics).toContain('vigil_redis_eviction_policy_ok 1');

    const sentAt = performance.now();
    vigil.child.kill('SIGTERM');
    const exit = await vigil.exited;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(performance.now() - sentAt).toBeLessThan(5_000);
    expect(vigil.logs().map((line) => line.msg)).toContain('vigil stopped');
  });

  it('exits at once with 130 on a second signal while the first is still draining', async () => {
    const config = await writeConfig(`redis:\n  url: ${REDIS_URL}\nhttp:\n  port: 0\nshutdown_grace: 20s\n`);
    const vigil = startVigil(config);
    const url = new URL(await waitForHttpUrl(vigil));
    // A request whose headers never finish keeps the HTTP server draining, so shutdown is in progress.
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    socket.write('GET /healthz HTTP/1.1\r\nHost: vigil\r\n');

    vigil.child.kill('SIGTERM');
    await waitFor('draining', () =>
      vigil.logs().some((line) => line.msg === 'vigil stopping') ? true : undefined,
    );
    vigil.child.kill('SIGINT');
    const exit = await vigil.exited;
    socket.destroy();

    expect(exit.code).toBe(130);
    expect(vigil.logs().map((line) => line.msg)).toContain('second signal, exiting immediately');
  });

  it('logs an uncaught exception, cleans up and exits 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CRASH_FIXTURE], {
      env: { ...process.env, VIGIL_REDIS_URL: REDIS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });

    const [code] = (await once(child, 'exit')) as [number | null];
    const messages = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line).msg);

    expect(code).toBe(1);
    expect(messages).toEqual(expect.arrayContaining(['uncaught exception, shutting down', 'vigil stopped']));
    expect(output).toContain('boom: a bug nobody caught');
  });

  it('is alive but not ready while Redis is unreachable, and becomes ready when Redis appears', async () => {
    const port = await freePort();
    const config = await writeConfig(
      `redis:\n  url: redis://:hunter2-secret@127.0.0.1:${port}\n  max_retry_delay: 200ms\nhttp:\n  port: 0\n`,
    );
    const vigil = startVigil(config);
    const url = await waitForHttpUrl(vigil);

    expect(await status(`${url}/healthz`)).toEqual({ code: 200, body: { status: 'ok' } });
    const notReady = await status(`${url}/readyz`);
    expect(notReady.code).toBe(503);
    expect(notReady.body).toEqual({
      status: 'not-ready',
      reasons: { redis: expect.stringMatching(/^redis /) },
    });
    await waitFor('a logged reconnect attempt', () =>
      vigil.logs().some((line) => line.msg === 'redis unavailable, retrying' && line.attempt === 2)
        ? true
        : undefined,
    );

    const redis = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--requirepass',
        'hunter2-secret',
      ],
      { stdio: 'ignore' },
    );
    children.push(redis);
    await waitFor('ready after Redis appears', async () =>
      (await status(`${url}/readyz`)).code === 200 ? true : undefined,
    );

    vigil.child.kill('SIGTERM');
    expect((await vigil.exited).code).toBe(0);
    redis.kill('SIGTERM');
    await once(redis, 'exit');
    expect(vigil.output()).not.toContain('hunter2-secret');
  });

  it('exits 2 with every located problem for an invalid config', async () => {
    const config = await writeConfig(
      'redis:\n  urll: redis://x\nhttp:\n  port: -1\nshutdown_grace: forever\n',
    );
    const vigil = spawnVigil(['config', 'check', config]);
    children.push(vigil);

    const exit = await vigil.exited;

    expect(exit.code).toBe(2);
    expect(vigil.output().trim().split('\n')).toEqual([
      `error: ${config}: 3 problems`,
      `  ${config}:2 redis.urll: unknown key (did you mean "url"?)`,
      `  ${config}:4 http.port: expected >= 0, got number -1`,
      `  ${config}:5 shutdown_grace: expected a duration like 30s, 5m, 1h or 7d, got "forever"`,
    ]);
  });
});

describe('Daemon (in process)', () => {
  function configFor(redisUrl: string) {
    return parseConfig(
      `redis:\n  url: ${redisUrl}\n  max_retry_delay: 100ms\nhttp:\n  port: 0\nshutdown_grace: 2s\n`,
      'x.yaml',
      {},
    );
  }

  it('has idempotent start and stop', async () => {
    const daemon = new Daemon(configFor(REDIS_URL), {
      logger: pino({ level: 'silent' }),
      clock: systemClock,
    });

    await Promise.all([daemon.start(), daemon.start()]);
    const url = daemon.url as string;
    await waitFor('ready', async () => ((await status(`${url}/readyz`)).code === 200 ? true : undefined));
    await Promise.all([daemon.stop(), daemon.stop()]);

    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('refuses to become ready on a Redis that may evict keys', async () => {
    const evicting = await startThrowawayRedis(['--maxmemory-policy', 'allkeys-lru']);
    const daemon = new Daemon(configFor(evicting.url), {
      logger: pino({ level: 'silent' }),
      clock: systemClock,
    });
    await daemon.start();

    const body = await waitFor('eviction reason', async () => {
      const { code, body } = await status(`${daemon.url}/readyz`);
      return code === 503 && JSON.stringify(body).includes('maxmemory-policy') ? body : undefined;
    });

    expect(body).toEqual({
      status: 'not-ready',
      reasons: {
        redis:
          'redis maxmemory-policy is "allkeys-lru"; vigil needs "noeviction" (evicted lock keys cause double remediation)',
      },
    });
    await daemon.stop();
    await evicting.stop();
  });

  it('is not ready while its audit log does not verify, and says which line', async () => {
    const policyFile = join(dir, 'policy.yaml');
    await writeFile(policyFile, 'mode: dry-run\n');
    await mkdir(join(dir, 'audit'));
    await writeFile(join(dir, 'audit', 'audit-r1.jsonl'), 'not a record\n');
    const config = parseConfig(
      `redis:\n  url: ${REDIS_URL}\nhttp:\n  port: 0\npolicy_file: ${policyFile}\ndata_dir: ${dir}\nreplica_id: r1\n`,
      'x.yaml',
      {},
    );
    const daemon = new Daemon(config, { logger: pino({ level: 'silent' }), clock: systemClock });
    await daemon.start();

    const body = await waitFor('audit reason', async () => {
      const reply = await status(`${daemon.url}/readyz`);
      return reply.code === 503 && 'audit' in (reply.body.reasons as object) ? reply.body : undefined;
    });
    await daemon.stop();

    expect((body.reasons as Record<string, string>).audit).toMatch(
      /audit-r1\.jsonl does not verify, line 1: not a JSON record/,
    );
  });

  it('is not ready until the policy file is valid, and picks up a fixed file without a restart', async () => {
    const policyFile = join(dir, 'policy.yaml');
    await writeFile(policyFile, 'mode: sometimes\n');
    const config = parseConfig(
      `redis:\n  url: ${REDIS_URL}\nhttp:\n  port: 0\npolicy_file: ${policyFile}\ndata_dir: ${dir}\n`,
      'x.yaml',
      {},
    );
    const daemon = new Daemon(config, { logger: pino({ level: 'silent' }), clock: systemClock });
    await daemon.start();

    const before = await waitFor('policy reason', async () => {
      const { code, body } = await status(`${daemon.url}/readyz`);
      return code === 503 && 'policy' in (body.reasons as object) ? body : undefined;
    });
    await writeFile(policyFile, 'mode: dry-run\n');
    await daemon.reloadPolicy();

    expect((before.reasons as Record<string, string>).policy).toMatch(
      /^policy .*policy\.yaml not loaded: .*policy\.yaml:1 mode: /,
    );
    await waitFor('ready', async () =>
      (await status(`${daemon.url}/readyz`)).code === 200 ? true : undefined,
    );
    await daemon.stop();
  });

  it('tells Slack when a policy edit is rejected, without the webhook in its logs', async () => {
    const slack = await startTestServer((_request, response) => response.writeHead(200).end('ok'));
    const policyFile = join(dir, 'policy.yaml');
    await writeFile(policyFile, 'mode: dry-run\n');
    const config = parseConfig(
      [
        `redis:\n  url: ${REDIS_URL}\nhttp:\n  port: 0\npolicy_file: ${policyFile}\ndata_dir: ${dir}`,
        'notifiers:\n  - kind: slack\n    options: { retries: 0 }',
      ].join('\n'),
      'x.yaml',
      { SLACK_WEBHOOK_URL: `${slack.url}/services/T1/B1/secret-token` },
    );
    const logs = capture();
    const daemon = new Daemon(config, { logger: pino({ level: 'debug' }, logs.stream), clock: systemClock });
    await daemon.start();

    await writeFile(policyFile, 'mode: sometimes\n');
    await daemon.reloadPolicy();
    const posted = await waitFor('slack post', async () => slack.requests[0]);
    await daemon.stop();
    await slack.close();

    expect(posted.path).toBe('/services/T1/B1/secret-token');
    expect(JSON.parse(posted.body).text).toMatch(
      /policy\.yaml rejected; the last good policy stays in force$/,
    );
    expect(JSON.stringify(JSON.parse(posted.body).blocks)).toMatch(/policy\.yaml:1 mode: /);
    expect(logs.text()).not.toContain('secret-token');
  });

  it('announces a change of the policy mode (off is the kill switch)', async () => {
    const policyFile = join(dir, 'policy.yaml');
    await writeFile(policyFile, 'mode: auto\n');
    const config = parseConfig(
      `redis:\n  url: ${REDIS_URL}\nhttp:\n  port: 0\npolicy_file: ${policyFile}\ndata_dir: ${dir}\nnotifiers:\n  - kind: console`,
      'x.yaml',
      {},
    );
    const out = capture();
    const daemon = new Daemon(config, {
      logger: pino({ level: 'silent' }),
      clock: systemClock,
      out: out.stream,
    });
    await daemon.start();

    await writeFile(policyFile, 'mode: off\n');
    await daemon.reloadPolicy();
    const line = await waitFor(
      'the mode change',
      () => /mode-changed: policy mode auto → off .*/.exec(out.text())?.[0],
    );
    await daemon.stop();

    expect(line).toContain(policyFile);
  });
});
