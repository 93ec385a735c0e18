import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { TransientError } from '../../src/core/errors.js';
import { type ClaimLimits, CounterStore } from '../../src/policies/counters.js';
import { DEFAULT_REMEDIATION_SETTINGS } from '../../src/policies/schema.js';
import { redisKeys } from '../../src/store/keys.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-02-03T13:05:00Z');

describe('CounterStore (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let clock: ManualClock;
  let store: CounterStore;

  beforeAll(() => {
    redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: false });
  });

  afterAll(async () => {
    await redis.quit();
  });

  const fresh = () => {
    prefix = `vigil-test:${randomUUID()}:`;
    clock = new ManualClock(T0);
    store = new CounterStore({ redis, keys: redisKeys(prefix), clock });
  };

  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  it('reads empty counters for a target that never ran', async () => {
    fresh();

    const counters = await store.read([{ kind: 'redeploy-service', target: 'nba-phase4' }]);

    expect(counters).toEqual({
      targets: {
        'redeploy-service|nba-phase4': {
          lastRunAt: null,
          runsLastHour: 0,
          runsLastDay: 0,
          consecutiveFailures: 0,
          breakerOpenUntil: null,
        },
      },
      kinds: { 'redeploy-service': { runsLastHour: 0, runsLastDay: 0 } },
    });
  });

  it('counts runs per target and per kind in sliding hour and day windows', async () => {
    fresh();
    await store.recordRun('redeploy-service', 'a', { at: T0 - 3 * HOUR });
    await store.recordRun('redeploy-service', 'a', { at: T0 - 10 * 60_000 });
    await store.recordRun('redeploy-service', 'b', { at: T0 - 5 * 60_000 });
    await store.recordRun('redeploy-service', 'b', { at: T0 - 25 * HOUR });

    const counters = await store.read([
      { kind: 'redeploy-service', target: 'a' },
      { kind: 'redeploy-service', target: 'b' },
    ]);

    expect(counters.targets['redeploy-service|a']).toMatchObject({
      lastRunAt: T0 - 10 * 60_000,
      runsLastHour: 1,
      runsLastDay: 2,
    });
    expect(counters.targets['redeploy-service|b']).toMatchObject({ runsLastHour: 1, runsLastDay: 1 });
    expect(counters.kinds['redeploy-service']).toEqual({ runsLastHour: 2, runsLastDay: 3 });
  });

  it('claims a run atomically: inside the cooldown a second replica loses', async () => {
    fresh();

    const results = await Promise.all(
      Array.from({ length: 5 }, () => store.recordRun('run-job', 'grading-backfill', { cooldownMs: HOUR })),
    );
    clock.advance(HOUR);
    const afterCooldown = await store.recordRun('run-job', 'grading-backfill', { cooldownMs: HOUR });

    expect(results.filter(Boolean)).toHaveLength(1);
    expect(afterCooldown).toBe(true);
    expect((await store.read([{ kind: 'run-job', target: 'grading-backfill' }])).kinds['run-job']).toEqual({
      runsLastHour: 1,
      runsLastDay: 2,
    });
  });

  it('keeps the claim of a run id recorded again (a retried job) and counts it once', async () => {
    fresh();

    const first = await store.recordRun('run-job', 'grading-backfill', { cooldownMs: HOUR, runId: 'job-1' });
    clock.advance(60_000);
    const retried = await store.recordRun('run-job', 'grading-backfill', {
      cooldownMs: HOUR,
      runId: 'job-1',
    });
    const other = await store.recordRun('run-job', 'grading-backfill', { cooldownMs: HOUR, runId: 'job-2' });
    const counters = await store.read([{ kind: 'run-job', target: 'grading-backfill' }]);

    expect([first, retried, other]).toEqual([true, true, false]);
    expect(counters.targets['run-job|grading-backfill']).toMatchObject({ lastRunAt: T0, runsLastHour: 1 });
  });

  const limits = (overrides: Partial<ClaimLimits> = {}): ClaimLimits => ({
    ...DEFAULT_REMEDIATION_SETTINGS,
    cooldown: HOUR,
    max_concurrent: 10,
    ...overrides,
  });

  it('claims every limit in one step: racing replicas get exactly the global hourly cap', async () => {
    fresh();
    const capped = limits({ max_per_hour: { target: 1, global: 3 } });

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.claim('restart-service', `svc-${i}`, `job-${i}`, capped, 60_000),
      ),
    );
    const refused = results.find((result) => result.status === 'refused');

    expect(results.filter((result) => result.status === 'claimed')).toHaveLength(3);
    expect(refused?.kindCounters).toEqual({ runsLastHour: 3, runsLastDay: 3 });
    expect(
      (await store.read([{ kind: 'restart-service', target: 'svc-0' }])).kinds['restart-service'],
    ).toEqual({
      runsLastHour: 3,
      runsLastDay: 3,
    });
  });

  it('refuses a claim on cooldown, per-target rate, open breaker or failure streak', async () => {
    fresh();
    await store.recordRun('run-job', 'cool', { at: T0 - 10 * 60_000 });
    await store.recordRun('run-job', 'rate', { at: T0 - 2 * HOUR });
    await store.recordRun('run-job', 'rate', { at: T0 - 3 * HOUR });
    await store.recordRun('run-job', 'rate', { at: T0 - 4 * HOUR });
    await store.openBreaker('run-job', 'broken', T0 + HOUR);
    await store.escalate('run-job', 'failing', 3);

    const statuses = await Promise.all(
      ['cool', 'rate', 'broken', 'failing', 'fine'].map(
        async (target) => (await store.claim('run-job', target, `job-${target}`, limits(), 60_000)).status,
      ),
    );

    expect(statuses).toEqual(['refused', 'refused', 'refused', 'refused', 'claimed']);
  });

  it('keeps a retried run id counted once and only asks it for a slot', async () => {
    fresh();
    const one = limits({ max_concurrent: 1 });

    const first = await store.claim('run-job', 'j', 'job-1', one, 60_000);
    await store.releaseSlot('run-job', 'job-1');
    clock.advance(60_000);
    const retried = await store.claim('run-job', 'j', 'job-1', one, 60_000);
    const other = await store.claim('run-job', 'k', 'job-2', one, 60_000);

    expect([first.status, retried.status, other.status]).toEqual(['claimed', 'again', 'busy']);
    expect((await store.read([{ kind: 'run-job', target: 'j' }])).targets['run-job|j']).toMatchObject({
      lastRunAt: T0,
      runsLastHour: 1,
    });
  });

  it('leases max_concurrent slots on the Redis clock: a replica whose clock runs ahead still sees the lease', async () => {
    fresh();
    const one = limits({ max_concurrent: 1 });
    const skewed = new CounterStore({
      redis,
      keys: redisKeys(prefix),
      clock: new ManualClock(T0 + 10 * 60_000),
    });

    const held = await store.claim('restart-service', 'a', 'job-1', one, 60_000);
    const other = await skewed.claim('restart-service', 'b', 'job-2', one, 60_000);
    await store.unclaim('restart-service', 'a', 'job-1');
    const afterRelease = await skewed.claim('restart-service', 'b', 'job-2', one, 60_000);

    expect([held.status, other.status, afterRelease.status]).toEqual(['claimed', 'busy', 'claimed']);
  });

  it('gives back a claim that never reached the platform, and keeps one that did', async () => {
    fresh();
    await store.recordRun('run-job', 'j', { at: T0 - 2 * HOUR });
    await store.claim('run-job', 'j', 'job-1', limits(), 60_000);
    await store.claim('run-job', 'k', 'job-2', limits(), 60_000);

    await store.commit('run-job', 'k', 'job-2');
    const given = await store.unclaim('run-job', 'j', 'job-1');
    const kept = await store.unclaim('run-job', 'k', 'job-2');
    const counters = await store.read([
      { kind: 'run-job', target: 'j' },
      { kind: 'run-job', target: 'k' },
    ]);

    expect([given, kept]).toEqual([true, false]);
    expect(counters.targets['run-job|j']).toMatchObject({
      lastRunAt: T0 - 2 * HOUR,
      runsLastHour: 0,
      runsLastDay: 1,
    });
    expect(counters.targets['run-job|k']).toMatchObject({ lastRunAt: T0, runsLastHour: 1 });
    expect(counters.kinds['run-job']).toEqual({ runsLastHour: 1, runsLastDay: 2 });
  });

  it('escalates a target: the failure streak jumps to the given count until a reset', async () => {
    fresh();

    await store.escalate('restart-service', 's', 3);
    const escalated = (await store.read([{ kind: 'restart-service', target: 's' }])).targets[
      'restart-service|s'
    ];
    await store.resetFailures('restart-service', 's');
    const reset = (await store.read([{ kind: 'restart-service', target: 's' }])).targets['restart-service|s'];

    expect([escalated?.consecutiveFailures, reset?.consecutiveFailures]).toEqual([3, 0]);
  });

  it('tracks consecutive failures until a success or a reset', async () => {
    fresh();

    const streak = [
      await store.recordOutcome('restart-service', 's', 'failure'),
      await store.recordOutcome('restart-service', 's', 'failure'),
    ];
    const afterSuccess = await store.recordOutcome('restart-service', 's', 'success');
    await store.recordOutcome('restart-service', 's', 'failure');
    await store.resetFailures('restart-service', 's');

    expect(streak).toEqual([1, 2]);
    expect(afterSuccess).toBe(0);
    expect(
      (await store.read([{ kind: 'restart-service', target: 's' }])).targets['restart-service|s']
        ?.consecutiveFailures,
    ).toBe(0);
  });

  it('keeps a breaker open until the given time, fleet-wide, with a matching expiry', async () => {
    fresh();
    const until = T0 + 30 * 60_000;

    await store.openBreaker('redeploy-service', 'a', until);
    const ttl = await redis.pttl(`${prefix}policy:breaker:redeploy-service|a`);
    const open = await store.read([{ kind: 'redeploy-service', target: 'a' }]);
    await store.closeBreaker('redeploy-service', 'a');
    const closed = await store.read([{ kind: 'redeploy-service', target: 'a' }]);

    expect(open.targets['redeploy-service|a']?.breakerOpenUntil).toBe(until);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);
    expect(closed.targets['redeploy-service|a']?.breakerOpenUntil).toBeNull();
  });

  it('uses the documented keys, every one with an expiry', async () => {
    fresh();

    await store.recordRun('redeploy-service', 'a');
    await store.recordOutcome('redeploy-service', 'a', 'failure');
    await store.openBreaker('redeploy-service', 'a', T0 + HOUR);
    const keys = (await redis.keys(`${prefix}*`)).map((key) => key.slice(prefix.length)).sort();
    const ttls = await Promise.all(keys.map((key) => redis.pttl(`${prefix}${key}`)));

    expect(keys).toEqual([
      'policy:breaker:redeploy-service|a',
      'policy:cooldown:redeploy-service|a',
      'policy:failures:redeploy-service|a',
      'policy:runs:redeploy-service',
      'policy:runs:redeploy-service|a',
    ]);
    expect(ttls.every((ttl) => ttl > 0)).toBe(true);
  });

  it('throws a TransientError when Redis is unreachable', async () => {
    const offline = new Redis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // Connection errors surface through the rejected read; the event would only add noise.
    offline.on('error', () => undefined);
    const unreachable = new CounterStore({ redis: offline, keys: redisKeys('vigil-test:offline') });

    await expect(unreachable.read([{ kind: 'run-job', target: 'j' }])).rejects.toBeInstanceOf(TransientError);
    offline.disconnect();
  });
});
