import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApprove } from '../../src/commands/approve.js';
import { loadConfig } from '../../src/config.js';
import { systemClock } from '../../src/core/clock.js';
import { Daemon } from '../../src/daemon.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { capture } from '../support/capture.js';
import { auditByFile, writeDriftDaemonFiles } from '../support/drift-daemon.js';
import { type TestRedis, testRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

// A grant must not wait for the collector's next tick (10 minutes for drift in the seed config):
// here the drift collector ticks once an hour, so only the grant itself can make the redeploy run.
let sandbox: Sandbox;
let env: TestRedis;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 77, operationDelayMs: 10 });
  env = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-grant-'));
});
afterAll(async () => {
  await sandbox.close();
  await env.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const POLICY = `
mode: auto
remediations:
  redeploy-service: { mode: auto, cooldown: 1h, requires_approval: true }
rules:
  - id: drift
    match: { metric: deploy_commits_behind, severity: [critical] }
    action: { kind: redeploy-service, params: { service: '{{labels.service}}' } }
`;

const files = () =>
  writeDriftDaemonFiles(dir, { sandbox, namespace: env.keys.namespace, policy: POLICY, interval: '1h' });
const entries = async () => [...(await auditByFile(dir)).values()].flat();

describe('an approval grant', () => {
  it('runs the waiting plan at once, not at the collector’s next tick an hour later', async () => {
    const file = await files();
    const out = capture();
    const err = capture();
    const config = await loadConfig(file, { ...sandbox.env, NO_PROXY: '127.0.0.1' });
    const offset = sandbox.clock.now() - systemClock.now();
    const clock = { now: () => systemClock.now() + offset };
    const daemon = new Daemon({ ...config, replica_id: 'a' }, { logger: pino({ level: 'silent' }), clock });
    await daemon.start();
    try {
      const requested = await waitFor(
        'the approval request of the first tick',
        async () => (await entries()).find((entry) => entry.event === 'approval-requested'),
        40_000,
      );
      expect(sandbox.requests().filter((r) => r.route === 'run.services.patch')).toHaveLength(0);

      const code = await runApprove(
        requested.findingId,
        { config: file, as: 'alice' },
        { stdout: out.stream, stderr: err.stream },
        clock,
      );

      expect(code).toBe(0);
      await waitFor(
        'the approved redeploy',
        async () =>
          (await entries()).some((entry) => entry.event === 'remediation-executed') ? true : undefined,
        40_000,
      );
      const decisions = (await entries()).filter((entry) => entry.event === 'decision');
      expect(decisions.map((entry) => entry.outcome)).toEqual(['needs-approval', 'act']);
      expect(sandbox.requests().filter((r) => r.route === 'run.services.patch')).toHaveLength(1);
      expect(out.text()).toMatch(/a running vigil acts on it now/);
    } finally {
      await daemon.stop();
    }
  }, 120_000);
});
