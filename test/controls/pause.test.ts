import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPause, runResume } from '../../src/commands/pause.js';
import { loadConfig } from '../../src/config.js';
import { systemClock } from '../../src/core/clock.js';
import type { AuditEntry } from '../../src/core/types.js';
import { Daemon } from '../../src/daemon.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { capture } from '../support/capture.js';
import { auditByFile, writeDriftDaemonFiles } from '../support/drift-daemon.js';
import { type TestRedis, testRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

// `vigil pause` is one key in Redis that every replica's gates read: two daemons share one Redis,
// both keep deciding on the drifted phase 4 every tick, and while paused neither acts.
let sandbox: Sandbox;
let env: TestRedis;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 77, operationDelayMs: 10 });
  env = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-pause-'));
});
afterAll(async () => {
  await sandbox.close();
  await env.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const POLICY = `
mode: auto
remediations:
  redeploy-service: { mode: auto, cooldown: 1h }
rules:
  - id: drift
    match: { metric: deploy_commits_behind, severity: [critical] }
    action: { kind: redeploy-service, params: { service: '{{labels.service}}' } }
`;

const files = () =>
  writeDriftDaemonFiles(dir, { sandbox, namespace: env.keys.namespace, policy: POLICY, interval: '1s' });
const audit = () => auditByFile(dir);

const decisions = (entries: readonly AuditEntry[]) => entries.filter((entry) => entry.event === 'decision');

describe('vigil pause / resume with two replicas', () => {
  it('while paused neither replica acts (every decision names who paused); after resume one redeploy runs', async () => {
    const file = await files();
    const out = capture();
    const err = capture();
    const io = { stdout: out.stream, stderr: err.stream };
    const config = await loadConfig(file, { ...sandbox.env, NO_PROXY: '127.0.0.1' });
    // The daemons run on the sandbox's day at wall speed, as `vigil demo` does.
    const offset = sandbox.clock.now() - systemClock.now();
    const clock = { now: () => systemClock.now() + offset };
    const replicas = ['a', 'b'].map(
      (replica) =>
        new Daemon({ ...config, replica_id: replica }, { logger: pino({ level: 'silent' }), clock }),
    );

    expect(
      await runPause({ config: file, as: 'alice', reason: 'hands off during the migration' }, io, clock),
    ).toBe(0);
    await Promise.all(replicas.map((replica) => replica.start()));
    await waitFor(
      'both replicas deciding while paused',
      async () => {
        const byFile = await audit();
        const a = decisions(byFile.get('audit-a.jsonl') ?? []);
        const b = decisions(byFile.get('audit-b.jsonl') ?? []);
        return a.length >= 2 && b.length >= 2 ? true : undefined;
      },
      40_000,
    );
    const whilePaused = await audit();
    const patchesWhilePaused = sandbox.requests().filter((r) => r.route === 'run.services.patch').length;
    expect(await runResume({ config: file, as: 'bob' }, io, clock)).toBe(0);
    await waitFor(
      'the redeploy after resume',
      async () =>
        [...(await audit()).values()].flat().some((entry) => entry.event === 'remediation-executed')
          ? true
          : undefined,
      40_000,
    );
    await Promise.all(replicas.map((replica) => replica.stop()));
    const after = await audit();

    for (const name of ['audit-a.jsonl', 'audit-b.jsonl']) {
      const reasons = decisions(whilePaused.get(name) ?? []).map(
        (entry) => `${entry.outcome}: ${entry.reason}`,
      );
      expect(reasons.length).toBeGreaterThanOrEqual(2);
      for (const reason of reasons)
        expect(reason).toMatch(
          /^skip: vigil is paused by alice since .* until vigil resume \(hands off during the migration\)$/,
        );
    }
    expect(patchesWhilePaused).toBe(0);
    expect(after.get('audit-cli-alice.jsonl')?.map((e) => [e.event, e.actor])).toEqual([
      ['paused', { type: 'human', name: 'alice' }],
    ]);
    expect(after.get('audit-cli-bob.jsonl')?.map((e) => e.event)).toEqual(['resumed']);
    const executed = [...after.values()].flat().filter((entry) => entry.event === 'remediation-executed');
    expect(executed).toHaveLength(1);
    expect(err.text()).toBe('');
  }, 120_000);
});
