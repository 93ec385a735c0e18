import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { verifyAuditFile } from '../../src/audit/verify.js';
import { ManualClock } from '../../src/core/clock.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import type { AuditEntry } from '../../src/core/types.js';
import type { NotifyEvent } from '../../src/notify/types.js';
import { createPolicyStage } from '../../src/pipeline/policy-stage.js';
import { ApprovalStore } from '../../src/policies/approvals.js';
import { CounterStore } from '../../src/policies/counters.js';
import { at, DRIFT_POLICY, finding, policyOf } from '../policies/helpers.js';
import { type TestRedis, testRedis } from '../support/redis.js';

let env: TestRedis;
let dir: string;
beforeEach(async () => {
  env = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-policy-stage-'));
});
afterEach(async () => {
  await env.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const snapshot = DRIFT_POLICY;

function stage(audit: { append(record: unknown): Promise<unknown> }, announced: NotifyEvent[] = []) {
  const clock = new ManualClock(at('2026-02-03T14:00:00Z'));
  const metrics = createMetricsRegistry({ processMetrics: false });
  const run = createPolicyStage({
    policy: () => snapshot,
    counters: new CounterStore({ redis: env.redis, keys: env.keys, clock }),
    clock,
    logger: pino({ level: 'silent' }),
    metrics,
    audit,
    announce: (event) => announced.push(event),
  });
  return { run, metrics, clock };
}

describe('policy stage', () => {
  it('audits every decision with its finding, rule, target and the policy in force', async () => {
    const log = await AuditLog.open({
      dir,
      replica: 'r1',
      clock: new ManualClock(at('2026-02-03T14:00:00Z')),
    });
    const { run } = stage(log);

    await run([finding(), finding({ id: 'f-2', state: 'cleared' })]);
    await log.close();

    const entries = (await readFile(log.file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEntry);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      event: 'decision',
      findingId: 'f-1',
      outcome: 'act',
      plan: { rule: 'drift', remediation: 'redeploy-service', target: 'nba-phase4', policy: snapshot.hash },
    });
    expect((await verifyAuditFile(log.file)).problem).toBeUndefined();
  });

  it('counts and logs a decision it could not audit, and carries on', async () => {
    const { run, metrics } = stage({ append: () => Promise.reject(new Error('disk full')) });

    await run([finding()]);

    expect(await metrics.getSingleMetricAsString('vigil_audit_failures_total')).toContain(
      'vigil_audit_failures_total 1',
    );
  });

  it('announces raised findings with their decisions and cleared ones, not ongoing ones', async () => {
    const announced: NotifyEvent[] = [];
    const { run } = stage({ append: async () => undefined }, announced);

    await run([
      finding({ id: 'f-1' }),
      finding({ id: 'f-2', state: 'ongoing' }),
      finding({ id: 'f-3', state: 'cleared' }),
    ]);

    expect(
      announced.map((event) =>
        event.type === 'finding' ? [event.finding.id, event.decisions.map((d) => d.action)] : event.type,
      ),
    ).toEqual([
      ['f-1', ['act']],
      ['f-3', []],
    ]);
  });

  it('asks a human once for a remediation that needs approval, then acts once it is granted', async () => {
    const gated = policyOf(`
      mode: auto
      remediations: { redeploy-service: { mode: auto, requires_approval: true } }
      rules:
        - id: drift
          match: { metric: deploy_drift_commits_behind }
          action: { kind: redeploy-service, params: { service: '{{labels.service}}' } }
    `);
    const clock = new ManualClock(at('2026-02-03T14:00:00Z'));
    const approvals = new ApprovalStore(env.redis, env.keys, clock);
    const log = await AuditLog.open({ dir, replica: 'r1', clock });
    const announced: NotifyEvent[] = [];
    const decided: string[] = [];
    const run = createPolicyStage({
      policy: () => gated,
      counters: new CounterStore({ redis: env.redis, keys: env.keys, clock }),
      clock,
      logger: pino({ level: 'silent' }),
      metrics: createMetricsRegistry({ processMetrics: false }),
      audit: log,
      announce: (event) => announced.push(event),
      approvals,
      onDecisions: async (_finding, decisions) => {
        decided.push(...decisions.map((d) => d.action));
      },
    });

    await run([finding()]);
    await run([finding({ state: 'ongoing' })]);
    await approvals.grant('f-1', 'alice');
    await run([finding({ state: 'ongoing' })]);
    await log.close();

    const entries = (await readFile(log.file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEntry);
    expect(decided).toEqual(['needs-approval', 'needs-approval', 'act']);
    expect(entries.map((e) => `${e.event}:${e.outcome ?? ''}`)).toEqual([
      'decision:needs-approval',
      'approval-requested:',
      'decision:needs-approval',
      'decision:act',
    ]);
    expect(entries.at(-1)?.plan).toMatchObject({ approvedBy: 'alice' });
    expect(announced).toHaveLength(1);
  });
});
