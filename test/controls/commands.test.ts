import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBreakerClose, runHoldClear } from '../../src/commands/hold.js';
import { runSilenceAdd, runSilenceExpire } from '../../src/commands/silence.js';
import { ControlStore } from '../../src/controls/store.js';
import { systemClock } from '../../src/core/clock.js';
import type { AuditEntry } from '../../src/core/types.js';
import { CounterStore } from '../../src/policies/counters.js';
import { evaluate, formatDecision } from '../../src/policies/evaluate.js';
import { countersFor, finding, policyOf } from '../policies/helpers.js';
import { capture } from '../support/capture.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';

// Each run-time control through its command: the next decision changes, and the audit names the human.
let env: TestRedis;
let dir: string;
let config: string;
beforeEach(async () => {
  env = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-controls-'));
  config = join(dir, 'vigil.yaml');
  await writeFile(
    config,
    `redis: { url: ${REDIS_URL}, key_prefix: "${env.keys.namespace}" }\ndata_dir: ${dir}\n`,
  );
});
afterEach(async () => {
  await env.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const snapshot = policyOf(`
  mode: auto
  remediations: { redeploy-service: { mode: auto } }
  rules:
    - id: drift
      match: { metric: deploy_drift_commits_behind }
      action: { kind: redeploy-service, params: { service: '{{labels.service}}' } }
`);

async function decision(): Promise<string> {
  const controls = await new ControlStore(env.redis, env.keys, systemClock).read();
  const counters = await new CounterStore({ redis: env.redis, keys: env.keys }).read([
    { kind: 'redeploy-service', target: 'nba-phase4' },
  ]);
  const f = finding();
  const live = { ...countersFor(f, snapshot, {}), targets: { ...counters.targets } };
  const [made] = evaluate(f, snapshot, systemClock.now(), live, { controls });
  return made ? formatDecision(made) : 'none';
}

async function humanEntries(name: string): Promise<[string, string][]> {
  const text = await readFile(join(dir, 'audit', `audit-cli-${name}.jsonl`), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditEntry)
    .map((entry) => [entry.event, entry.actor.type === 'human' ? entry.actor.name : 'vigil']);
}

const io = () => {
  const out = capture();
  const err = capture();
  return { io: { stdout: out.stream, stderr: err.stream }, out, err };
};

describe('run-time controls through their commands', () => {
  it('silence add makes the next decision a skip naming the silence; silence expire lifts it', async () => {
    const added = io();

    expect(await decision()).toMatch(/^act: /);
    expect(
      await runSilenceAdd(
        {
          config,
          target: 'nba-phase4',
          kind: 'redeploy-service',
          for: '4h',
          as: 'alice',
          reason: 'load test',
        },
        added.io,
      ),
    ).toBe(0);
    const id = added.out.text().trim().split('\n').at(-1) ?? '';
    const silenced = await decision();
    expect(await runSilenceExpire(id, { config, as: 'bob' }, io().io)).toBe(0);

    expect(silenced).toMatch(
      new RegExp(
        `^skip: redeploy-service/nba-phase4 is off: override silence ${id} by alice until .* \\(load test\\)`,
      ),
    );
    expect(await decision()).toMatch(/^act: /);
    expect(await humanEntries('alice')).toEqual([['silence-added', 'alice']]);
    expect(await humanEntries('bob')).toEqual([['silence-expired', 'bob']]);
  });

  it('hold clear lets the next decision act again and resets the failure streak', async () => {
    const now = systemClock.now();
    await new ControlStore(env.redis, env.keys, systemClock).hold({
      kind: 'redeploy-service',
      target: 'nba-phase4',
      since: now,
      until: now + 86_400_000,
      by: 'vigil',
      reason: 'the redeploy did not fix the drift',
    });
    await new CounterStore({ redis: env.redis, keys: env.keys }).escalate(
      'redeploy-service',
      'nba-phase4',
      3,
    );

    const held = await decision();
    expect(
      await runHoldClear(
        'redeploy-service',
        'nba-phase4',
        { config, as: 'carol', reason: 'fixed by hand' },
        io().io,
      ),
    ).toBe(0);

    expect(held).toMatch(
      /^skip: held since .* because the redeploy did not fix the drift \(by vigil, until /,
    );
    expect(await decision()).toMatch(/^act: /);
    expect(await humanEntries('carol')).toEqual([['hold-cleared', 'carol']]);
    expect(
      await runHoldClear('redeploy-service', 'nba-phase4', { config, as: 'carol', reason: 'again' }, io().io),
    ).toBe(1);
  });

  it('breaker close removes the fleet-wide open breaker: the next decision acts', async () => {
    await new CounterStore({ redis: env.redis, keys: env.keys }).openBreaker(
      'redeploy-service',
      'nba-phase4',
      systemClock.now() + 600_000,
    );

    const open = await decision();
    expect(await runBreakerClose('redeploy-service', 'nba-phase4', { config, as: 'dave' }, io().io)).toBe(0);

    expect(open).toMatch(/^skip: breaker open for redeploy-service\/nba-phase4/);
    expect(await decision()).toMatch(/^act: /);
    expect(await humanEntries('dave')).toEqual([['breaker-closed', 'dave']]);
    const resets = (await new ControlStore(env.redis, env.keys, systemClock).read()).breakerResets;
    expect(Object.keys(resets)).toEqual(['redeploy-service|nba-phase4']);
  });
});
