import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { TransientError } from '../../src/core/errors.js';
import { CounterStore } from '../../src/policies/counters.js';
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

  it('hands out max_concurrent slots of a kind, keeps the slot a run already holds, and frees slots at their lease end', async () => {
    fresh();

    const first = await store.acquireSlot('restart-service', 'job-1', 1, 60_000);
    const again = await store.acquireSlot('restart-service', 'job-1', 1, 60_000);
    const busy = await store.acquireSlot('restart-service', 'job-2', 1, 60_000);
    clock.advance(61_000);
    const afterLease = await store.acquireSlot('restart-service', 'job-2', 1, 60_000);
    await store.releaseSlot('restart-service', 'job-2');
    const afterRelease = await store.acquireSlot('restart-service', 'job-3', 1, 60_000);

    expect([first, again, busy, afterLease, afterRelease]).toEqual([true, true, false, true, true]);
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
