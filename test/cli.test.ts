import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/log.js';
import { ManualClock } from '../src/core/clock.js';
import { type Build, buildVigil } from './support/build.js';
import { freePort, spawnVigil } from './support/process.js';
import { REDIS_URL, type TestRedis, testRedis } from './support/redis.js';

/**
 * The command-line contract, command by command, through the real binary: exit 0 ok, 1 found
 * something, 2 usage error or bad/missing input, and never a stack trace for bad input.
 */
let dir: string;
let build: Build;
let busy: Server;
let redis: TestRedis;
const files: Record<string, string> = {};

beforeAll(async () => {
  // The compiled CLI: a third of the start-up time of the tsx one, and what the image runs.
  build = await buildVigil();
  busy = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => busy.once('listening', resolve));
  dir = await mkdtemp(join(tmpdir(), 'vigil-cli-'));
  redis = await testRedis();
  const clock = new ManualClock(Date.UTC(2026, 1, 2, 12));
  const log = await AuditLog.open({ dir: join(dir, 'audit'), replica: 'r1', clock });
  for (let i = 0; i < 3; i++) await log.append({ event: 'decision', findingId: `f-${i}`, outcome: 'act' });
  await log.close();
  files.audit = log.file;
  files.tampered = join(dir, 'tampered.jsonl');
  await writeFile(files.tampered, (await readFile(log.file, 'utf8')).replace('"f-1"', '"f-9"'));
  files.csv = join(dir, 'series.csv');
  const rows = Array.from(
    { length: 40 },
    (_, i) =>
      `2026-01-${String((i % 28) + 1).padStart(2, '0')}T${String(Math.floor(i / 28)).padStart(2, '0')}:00:00Z,${50 + (i % 3)}`,
  );
  await writeFile(files.csv, `timestamp,value\n${rows.sort().join('\n')}\n`);
  // One probe at a port nothing listens on, judged by a threshold: `vigil once` finds it down.
  files.probeDown = join(dir, 'probe-down.yaml');
  await writeFile(
    files.probeDown,
    [
      'collectors:',
      '  - id: probe',
      '    kind: http-probe',
      `    options: { timeout: 2s, targets: [{ name: down, url: "http://127.0.0.1:${await freePort()}/healthz" }] }`,
      'detectors:',
      '  - metric: probe_up',
      '    use: [{ kind: threshold, options: { direction: down, warning: 1, critical: 0.5, unit: number } }]',
      '',
    ].join('\n'),
  );
}, 180_000);

afterAll(async () => {
  busy?.close();
  await redis?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

interface Row {
  readonly args: readonly string[];
  readonly code: 0 | 1 | 2;
  /** Text the output must contain. */
  readonly says?: string;
  readonly env?: Record<string, string>;
}

const MISSING = '/nonexistent/vigil.yaml';
const FINDING = '{"metric":"grading_completeness","labels":{"model":"catboost_v9"}}';
const POLICY = 'examples/policy.nba-props.yaml';

/** command → case → row; `files.x` are resolved when the row runs. */
const TABLE: Record<string, Record<string, () => Row>> = {
  vigil: {
    ok: () => ({ args: ['--version'], code: 0 }),
    usage: () => ({ args: ['no-such-command'], code: 2, says: "unknown command 'no-such-command'" }),
  },
  run: {
    usage: () => ({ args: ['run'], code: 2, says: "required option '-c, --config <file>'" }),
    missing: () => ({ args: ['run', '-c', MISSING], code: 2, says: 'file not found' }),
    'busy port': () => ({
      args: ['run', '-c', 'examples/minimal.yaml'],
      env: { VIGIL_HTTP_PORT: String((busy.address() as { port: number }).port) },
      code: 2,
      says: 'is already in use',
    }),
  },
  demo: {
    usage: () => ({
      args: ['demo', '--timeout', 'soon'],
      code: 2,
      says: '--timeout: expected a whole number',
    }),
  },
  'config check': {
    ok: () => ({ args: ['config', 'check', '-c', 'examples/minimal.yaml'], code: 0, says: ': ok' }),
    usage: () => ({ args: ['config', 'check'], code: 2, says: '-c FILE' }),
    missing: () => ({ args: ['config', 'check', MISSING], code: 2, says: 'file not found' }),
  },
  once: {
    ok: () => ({ args: ['once', '-c', 'examples/minimal.yaml'], code: 0, says: '0 collectors' }),
    found: () => ({ args: ['once', '-c', files.probeDown as string], code: 1, says: 'critical' }),
    usage: () => ({
      args: ['once', '--config'],
      code: 2,
      says: "option '-c, --config <file>' argument missing",
    }),
    missing: () => ({ args: ['once', '-c', MISSING], code: 2, says: 'file not found' }),
  },
  backtest: {
    ok: () => ({
      args: ['backtest', '--detector', 'zscore', files.csv as string],
      code: 0,
      says: 'anomaly_score',
    }),
    usage: () => ({ args: ['backtest'], code: 2, says: "missing required argument 'input'" }),
    missing: () => ({ args: ['backtest', '--detector', 'zscore', '/nonexistent/x.csv'], code: 2 }),
  },
  'policy check': {
    ok: () => ({ args: ['policy', 'check', POLICY, '-c', 'examples/nba-props.yaml'], code: 0, says: ': ok' }),
    usage: () => ({ args: ['policy', 'check'], code: 2, says: "missing required argument 'file'" }),
    missing: () => ({ args: ['policy', 'check', '/nonexistent/policy.yaml'], code: 2 }),
  },
  'policy explain': {
    ok: () => ({
      args: ['policy', 'explain', '--policy', POLICY, '--finding', FINDING],
      code: 0,
      says: 'act:',
    }),
    usage: () => ({ args: ['policy', 'explain', '--policy', POLICY], code: 2, says: '--finding' }),
    missing: () => ({
      args: ['policy', 'explain', '--policy', '/nonexistent/p.yaml', '--finding', FINDING],
      code: 2,
    }),
  },
  'policy schema': {
    ok: () => ({ args: ['policy', 'schema'], code: 0, says: '"$schema"' }),
    usage: () => ({ args: ['policy', 'schema', 'extra'], code: 2, says: 'too many arguments' }),
  },
  sandbox: {
    usage: () => ({ args: ['sandbox', '--port', 'abc'], code: 2, says: '--port: expected an integer' }),
    missing: () => ({ args: ['sandbox', '--port', '0', '--scenario', '/nonexistent/s.yaml'], code: 2 }),
  },
  'audit verify': {
    ok: () => ({ args: ['audit', 'verify', files.audit as string], code: 0, says: 'ok, 3 entries' }),
    found: () => ({ args: ['audit', 'verify', files.tampered as string], code: 1, says: 'BROKEN' }),
    usage: () => ({ args: ['audit', 'verify', '--bogus'], code: 2, says: "unknown option '--bogus'" }),
    missing: () => ({
      args: ['audit', 'verify', '/nonexistent/audit.jsonl'],
      code: 2,
      says: 'file not found',
    }),
  },
  'audit tail': {
    ok: () => ({ args: ['audit', 'tail', '--dir', join(dir, 'audit'), '--json'], code: 0, says: '"f-2"' }),
    usage: () => ({
      args: ['audit', 'tail', '--dir', join(dir, 'audit'), '-n', 'x'],
      code: 2,
      says: '--lines',
    }),
    missing: () => ({
      args: ['audit', 'tail', '--dir', '/nonexistent/audit'],
      code: 2,
      says: 'no audit directory',
    }),
  },
  doctor: {
    usage: () => ({ args: ['doctor'], code: 2, says: "required option '-c, --config <file>'" }),
    missing: () => ({ args: ['doctor', '-c', MISSING], code: 2, says: 'file not found' }),
  },
  approve: {
    ok: () => ({
      args: ['approve', '--list', '-c', 'examples/minimal.yaml'],
      code: 0,
      says: 'nothing waits',
    }),
    found: () => ({
      args: ['approve', 'no-such-finding', '-c', 'examples/minimal.yaml', '--as', 't'],
      code: 1,
    }),
    usage: () => ({ args: ['approve', '--list'], code: 2, says: "required option '-c, --config <file>'" }),
    missing: () => ({ args: ['approve', '--list', '-c', MISSING], code: 2, says: 'file not found' }),
  },
  pause: {
    usage: () => ({
      args: ['pause', '--as', 't', '-c', 'examples/minimal.yaml'],
      code: 2,
      says: '--reason: say why',
    }),
    missing: () => ({
      args: ['pause', '--as', 't', '--reason', 'r', '-c', MISSING],
      code: 2,
      says: 'file not found',
    }),
  },
  resume: {
    found: () => ({
      args: ['resume', '--as', 't', '-c', 'examples/minimal.yaml'],
      code: 1,
      says: 'vigil is not paused',
    }),
  },
  silence: {
    ok: () => ({
      args: ['silence', 'list', '-c', 'examples/minimal.yaml'],
      code: 0,
      says: 'no active silence',
    }),
    found: () => ({
      args: ['silence', 'expire', 's-none', '--as', 't', '-c', 'examples/minimal.yaml'],
      code: 1,
      says: 'no active silence s-none',
    }),
    usage: () => ({
      args: ['silence', 'add', '--target', 'x', '--as', 't', '--reason', 'r', '-c', 'examples/minimal.yaml'],
      code: 2,
      says: '--for: expected a duration',
    }),
  },
  hold: {
    ok: () => ({ args: ['hold', 'list', '-c', 'examples/minimal.yaml'], code: 0, says: 'no holds' }),
    found: () => ({
      args: [
        'hold',
        'clear',
        'run-job',
        'grading-backfill',
        '--as',
        't',
        '--reason',
        'r',
        '-c',
        'examples/minimal.yaml',
      ],
      code: 1,
      says: 'no hold on run-job grading-backfill',
    }),
    usage: () => ({
      args: ['hold', 'clear', 'reboot', 'x', '--as', 't', '--reason', 'r', '-c', 'examples/minimal.yaml'],
      code: 2,
      says: 'KIND: expected one of',
    }),
  },
  breaker: {
    ok: () => ({
      args: ['breaker', 'list', '-c', 'examples/minimal.yaml'],
      code: 0,
      says: 'no breaker is open',
    }),
    usage: () => ({
      args: ['breaker', 'close', 'reboot', 'x', '--as', 't', '-c', 'examples/minimal.yaml'],
      code: 2,
      says: 'KIND: expected one of',
    }),
  },
  findings: {
    ok: () => ({ args: ['findings', '-c', 'examples/minimal.yaml'], code: 0, says: 'no open finding' }),
    missing: () => ({ args: ['findings', '-c', MISSING], code: 2, says: 'file not found' }),
  },
  history: {
    found: () => ({
      args: ['history', 'nba-phase4', '-c', 'examples/minimal.yaml'],
      code: 1,
      says: 'nothing recorded about nba-phase4',
    }),
    usage: () => ({
      args: ['history', '-c', 'examples/minimal.yaml'],
      code: 2,
      says: "missing required argument 'target'",
    }),
  },
  status: {
    ok: () => ({ args: ['status', '-c', 'examples/minimal.yaml'], code: 0, says: 'HEALTHY' }),
    usage: () => ({ args: ['status', '--json'], code: 2, says: '-c/--config FILE (Redis) or --url URL' }),
    missing: () => ({ args: ['status', '-c', MISSING], code: 2, says: 'file not found' }),
  },
};

const cases = Object.entries(TABLE).flatMap(([command, rows]) =>
  Object.entries(rows).map(([kind, row]) => ({ command, kind, row })),
);

describe.concurrent('vigil exit codes: ok 0, found 1, usage or bad input 2', () => {
  it.each(cases)('$command: $kind', async ({ row }) => {
    const { args, code, says, env } = row();
    const vigil = spawnVigil(
      args,
      {
        VIGIL_REDIS_URL: REDIS_URL,
        VIGIL_KEY_PREFIX: redis.prefix.slice(0, -1),
        VIGIL_HTTP_PORT: '0',
        VIGIL_DATA_DIR: dir,
        ...env,
      },
      build.bin,
    );
    const exit = await vigil.exited;

    expect({ code: exit.code, output: vigil.output() }).toMatchObject({ code });
    if (says) expect(vigil.output()).toContain(says);
    // Bad input is a located message, never a stack trace.
    expect(vigil.output()).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
  });
});

describe('secrets in bad input never reach the terminal', () => {
  it.each([
    ['config', 'check'],
    ['run', '-c'],
  ])(
    'vigil %s %s: a scheme-less webhook and a malformed Redis URL are reported without their secrets',
    async (...command) => {
      const config = join(dir, 'slack.yaml');
      await writeFile(config, 'notifiers:\n  - kind: slack\n');
      const vigil = spawnVigil(
        command[1] === '-c' ? [command[0], '-c', config] : [...command, config],
        {
          SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T0AAAA/B0BBBB/xoxTokenInTheUrl',
          VIGIL_REDIS_URL: 'redis//admin:hunter2@127.0.0.1:6379',
        },
        build.bin,
      );

      expect((await vigil.exited).code).toBe(2);
      expect(vigil.output()).toContain('notifiers[0].options.webhook_url: expected the incoming webhook URL');
      expect(vigil.output()).toContain('redis.url: expected a redis:// or rediss:// URL');
      expect(vigil.output()).not.toMatch(/xoxTokenInTheUrl|hunter2/);
    },
  );
});
