import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlStore } from '../../src/controls/store.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { ApprovalStore } from '../../src/policies/approvals.js';
import { CounterStore } from '../../src/policies/counters.js';
import { StatusReader } from '../../src/status/read-model.js';
import { StatusRecorder } from '../../src/status/recorder.js';
import { redisKeys } from '../../src/store/keys.js';
import { type TestRedis, testRedis } from '../support/redis.js';
import { chain, coverageFinding, REDEPLOY_PLAN } from './fixtures.js';

const T0 = 1_770_000_000_000;
let t: TestRedis;
let prefix: string;
let clock: ManualClock;
const logger = createLogger({ level: 'silent' });

beforeEach(async () => {
  t = await testRedis();
  prefix = t.prefix.slice(0, -1);
  clock = new ManualClock(T0);
});
afterEach(async () => {
  await t.cleanup();
});

function parts() {
  return {
    recorder: new StatusRecorder(t.redis, redisKeys(prefix), 'r1', clock, logger),
    reader: new StatusReader({ redis: t.redis, keys: redisKeys(prefix), clock, staleAfterMs: () => 60_000 }),
  };
}

describe('status read model', () => {
  it('follows one finding from its decision to the verified remediation, from what replicas recorded', async () => {
    const { recorder, reader } = parts();
    const entries = chain([
      {
        time: T0 + 10,
        event: 'decision',
        findingId: 'f-coverage',
        outcome: 'act',
        reason: 'rule redeploy matched',
        plan: { rule: 'redeploy', remediation: 'redeploy-service', target: 'nba-phase4' },
      },
      { time: T0 + 20, event: 'enqueued', findingId: 'f-coverage', plan: REDEPLOY_PLAN, reason: 'job j1' },
      { time: T0 + 30, event: 'started', findingId: 'f-coverage', plan: REDEPLOY_PLAN, reason: 'job j1' },
      {
        time: T0 + 40,
        event: 'remediation-executed',
        findingId: 'f-coverage',
        plan: REDEPLOY_PLAN,
        outcome: 'executed',
        reason: 'serves 53222d63',
      },
      {
        time: T0 + 90,
        event: 'remediation-verified',
        findingId: 'f-coverage',
        plan: REDEPLOY_PLAN,
        outcome: 'verified',
        reason: 'recovered',
      },
    ]);

    await recorder.findings([coverageFinding('raised', T0)]);
    for (const entry of entries) await recorder.audited(entry);
    await recorder.tick('vegas-line-coverage', 'success');
    const overview = await reader.overview();

    expect(overview.health).toEqual({ ok: true, problems: [] });
    expect(
      overview.findings.map((f) => [f.id, f.verdict.severity, f.decisions.map((d) => d.action)]),
    ).toEqual([['f-coverage', 'critical', ['act']]]);
    expect(overview.remediations).toEqual([
      {
        findingId: 'f-coverage',
        kind: 'redeploy-service',
        target: 'nba-phase4',
        description: REDEPLOY_PLAN.description,
        startedAt: T0 + 30,
        outcome: 'executed',
        outcomeAt: T0 + 40,
        verification: 'verified',
        verifiedAt: T0 + 90,
        job: 'j1',
        detail: 'recovered',
      },
    ]);
    expect(overview.budgets.map((b) => [b.kind, b.target, b.escalated])).toEqual([
      ['redeploy-service', 'nba-phase4', false],
    ]);
    expect(overview.collectors.map((c) => [c.id, c.lastOutcome, c.lastSuccessAt])).toEqual([
      ['vegas-line-coverage', 'success', T0],
    ]);
  });

  it('a cleared finding leaves the open list; a second replica reads the same view', async () => {
    const { recorder } = parts();
    const other = new StatusReader({ redis: t.redis, keys: redisKeys(prefix), clock });

    await recorder.findings([coverageFinding('raised', T0)]);
    const open = await other.overview();
    await recorder.findings([coverageFinding('cleared', T0)]);
    const after = await other.overview();

    expect(open.findings.map((f) => f.id)).toEqual(['f-coverage']);
    expect(after.findings).toEqual([]);
    expect((await other.findingRecords()).map((f) => [f.id, f.state])).toEqual([['f-coverage', 'cleared']]);
  });

  it('is not healthy while a breaker is open, a collector fails or is stale, and lists pending approvals', async () => {
    const { recorder, reader } = parts();
    const counters = new CounterStore({ redis: t.redis, keys: redisKeys(prefix), clock });
    const approvals = new ApprovalStore(t.redis, redisKeys(prefix), clock);
    await recorder.tick('stale-one', 'success');
    clock.set(T0 + 120_000);

    await counters.openBreaker('redeploy-service', 'nba-phase4', T0 + 600_000);
    await recorder.tick('bigquery', 'failure', 'query timed out');
    await approvals.request(coverageFinding(), {
      action: 'needs-approval',
      ruleId: 'redeploy',
      reason: 'requires approval',
      remediation: 'redeploy-service',
      target: 'nba-phase4',
    });
    const overview = await reader.overview();

    expect(overview.health.ok).toBe(false);
    expect(overview.health.problems).toEqual([
      `breaker open on redeploy-service nba-phase4 until ${new Date(T0 + 600_000).toISOString()}`,
      'collector bigquery failing (1 tick(s)): query timed out',
      'collector bigquery stale: no successful tick for 60 s',
      'collector stale-one stale: no successful tick for 60 s',
    ]);
    expect(overview.breakers).toEqual([
      { kind: 'redeploy-service', target: 'nba-phase4', openUntil: T0 + 600_000 },
    ]);
    expect(overview.approvals.map((a) => [a.findingId, a.target])).toEqual([['f-coverage', 'nba-phase4']]);
  });

  it('a hold and the pause make vigil not healthy, each with who and why; silences are listed', async () => {
    const { reader } = parts();
    const controls = new ControlStore(t.redis, redisKeys(prefix), clock);
    await controls.hold({
      kind: 'redeploy-service',
      target: 'nba-phase4',
      since: T0,
      until: T0 + 3_600_000,
      by: 'vigil',
      reason: 'verification ineffective',
    });
    await controls.pause({ by: 'alice', reason: 'incident review', since: T0, until: null });
    await controls.silence({
      target: 'prediction-worker',
      kind: undefined,
      startsAt: T0,
      endsAt: T0 + 600_000,
      createdBy: 'bob',
      reason: 'load test',
    });

    const overview = await reader.overview();

    expect(overview.health.problems).toEqual([
      'pause on every target by alice: incident review',
      'hold on nba-phase4 by vigil: redeploy-service: verification ineffective',
    ]);
    expect(overview.controls.map((c) => [c.kind, c.target ?? null, c.by])).toEqual([
      ['pause', null, 'alice'],
      ['hold', 'nba-phase4', 'vigil'],
      ['silence', 'prediction-worker', 'bob'],
    ]);
  });

  it('a breaker whose time has passed is closed', async () => {
    const { reader } = parts();
    const counters = new CounterStore({ redis: t.redis, keys: redisKeys(prefix), clock });
    await counters.openBreaker('run-job', 'grading-backfill', T0 + 1_000);

    clock.set(T0 + 1_001);
    const overview = await reader.overview();

    expect(overview.breakers).toEqual([]);
  });

  it('a recorder that cannot reach Redis counts the failure and never throws (a tick must go on)', async () => {
    const { Redis } = await import('ioredis');
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    dead.on('error', () => undefined);
    const recorder = new StatusRecorder(dead, redisKeys(prefix), 'r1', clock, logger);

    await recorder.findings([coverageFinding()]);
    await recorder.tick('c', 'success');
    await recorder.audited(chain([{ time: T0, event: 'decision' }])[0] as never);

    expect(recorder.failures).toBe(3);
    dead.disconnect();
  });
});
