import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type Clock, systemClock } from '../core/clock.js';
import { TransientError } from '../core/errors.js';
import { type CounterFamily, type RedisKeys, redisKeys } from '../store/keys.js';
import { CLAIM, UNCLAIM } from './claim-scripts.js';
import type { RemediationSettings } from './schema.js';
import {
  type Candidate,
  type Counters,
  counterKey,
  type KindCounters,
  type TargetCounters,
  ZERO_KIND_COUNTERS,
} from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface CounterStoreOptions {
  readonly redis: Redis;
  /** Where the counters live (src/store/keys.ts); tests use a unique namespace each. */
  readonly keys?: RedisKeys;
  readonly clock?: Clock;
  /** How long a last-run time and a failure streak are remembered (default 7 days). */
  readonly memoryMs?: number;
}

export type Outcome = 'success' | 'failure';

/** The policy limits a claim checks (a kind's `RemediationSettings`). */
export type ClaimLimits = Pick<
  RemediationSettings,
  'cooldown' | 'max_per_hour' | 'max_per_day' | 'max_concurrent' | 'max_consecutive_failures'
>;

/**
 * `claimed`: counted now; `again`: this run id was already counted (a retry), slot taken;
 * `refused`: a limit says no (see `counters`); `busy`: every `max_concurrent` slot is taken.
 */
export interface ClaimResult {
  readonly status: 'claimed' | 'again' | 'refused' | 'busy';
  /** vigil's clock when the claim was judged. */
  readonly at: number;
  readonly counters: TargetCounters;
  readonly kindCounters: KindCounters;
  /** Runs of the kind holding a slot when the claim was judged. */
  readonly running: number;
}

const CLAIM_STATUS: Readonly<Record<number, ClaimResult['status']>> = {
  0: 'refused',
  1: 'claimed',
  2: 'again',
  3: 'busy',
};

/**
 * Cooldowns, rate windows, failure streaks and breaker-open times, kept in Redis so every replica
 * agrees (never derived from BullMQ job retention, which forgets removed jobs). Reads return a
 * plain `Counters` object for the pure `evaluate`; writes are made by the remediation worker.
 * Key names: `RedisKeys.counter` (src/store/keys.ts). Last-run times and streaks expire after
 * `memoryMs`, run windows 25 h after the last run, breaker openings at their end.
 */
export class CounterStore {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly clock: Clock;
  private readonly memoryMs: number;

  constructor(options: CounterStoreOptions) {
    this.redis = options.redis;
    this.keys = options.keys ?? redisKeys('vigil');
    this.clock = options.clock ?? systemClock;
    this.memoryMs = options.memoryMs ?? 7 * DAY;
  }

  key(family: CounterFamily, kind: string, target?: string): string {
    return this.keys.counter(family, kind, target);
  }

  /**
   * Reads the counters of every candidate and of their kinds in one MULTI (one round trip, one
   * consistent view). Throws TransientError when Redis fails: no counters, no decision to act.
   */
  async read(
    candidates: readonly Pick<Candidate, 'kind' | 'target'>[],
    now = this.clock.now(),
  ): Promise<Counters> {
    const pairs = unique(candidates.map((c) => counterKey(c.kind, c.target))).map((key) => {
      const [kind = '', target = ''] = key.split('|');
      return { key, kind, target };
    });
    const kinds = unique(pairs.map((pair) => pair.kind));
    const multi = this.redis.multi();
    for (const { kind, target } of pairs) {
      multi.get(this.key('cooldown', kind, target));
      multi.zcount(this.key('runs', kind, target), `(${now - HOUR}`, '+inf');
      multi.zcount(this.key('runs', kind, target), `(${now - DAY}`, '+inf');
      multi.get(this.key('failures', kind, target));
      multi.get(this.key('breaker', kind, target));
    }
    for (const kind of kinds) {
      multi.zcount(this.key('runs', kind), `(${now - HOUR}`, '+inf');
      multi.zcount(this.key('runs', kind), `(${now - DAY}`, '+inf');
    }
    const replies = await this.exec(multi);
    const targets: Record<string, TargetCounters> = {};
    pairs.forEach((pair, index) => {
      const [last, hour, day, failures, breaker] = replies.slice(index * 5, index * 5 + 5);
      targets[pair.key] = {
        lastRunAt: toNumberOrNull(last),
        runsLastHour: toNumberOrNull(hour) ?? 0,
        runsLastDay: toNumberOrNull(day) ?? 0,
        consecutiveFailures: toNumberOrNull(failures) ?? 0,
        breakerOpenUntil: toNumberOrNull(breaker),
      };
    });
    const kindCounters: Record<string, KindCounters> = {};
    kinds.forEach((kind, index) => {
      const offset = pairs.length * 5 + index * 2;
      kindCounters[kind] = {
        runsLastHour: toNumberOrNull(replies[offset]) ?? ZERO_KIND_COUNTERS.runsLastHour,
        runsLastDay: toNumberOrNull(replies[offset + 1]) ?? ZERO_KIND_COUNTERS.runsLastDay,
      };
    });
    return { targets, kinds: kindCounters };
  }

  /**
   * Records that a run starts now. With `cooldownMs`, the check and the write are one atomic
   * script, so two replicas that both passed the policy cannot both start: the loser gets false.
   * Recording the same `runId` again returns true without counting it twice, so a job that is
   * retried or re-delivered after a crash keeps its claim.
   */
  async recordRun(
    kind: string,
    target: string,
    options: { at?: number; runId?: string; cooldownMs?: number } = {},
  ): Promise<boolean> {
    const at = options.at ?? this.clock.now();
    const keys = [this.key('cooldown', kind, target), this.key('runs', kind, target), this.key('runs', kind)];
    const args = [at, options.cooldownMs ?? 0, options.runId ?? randomUUID(), this.memoryMs, DAY + HOUR, DAY];
    const claimed = await this.call(() => this.redis.eval(RECORD_RUN, keys.length, ...keys, ...args));
    return claimed === 1;
  }

  /** Records how a run ended; returns the consecutive failure count afterwards (0 after success). */
  async recordOutcome(kind: string, target: string, outcome: Outcome): Promise<number> {
    const key = this.key('failures', kind, target);
    if (outcome === 'success') {
      await this.call(() => this.redis.del(key));
      return 0;
    }
    const replies = await this.exec(this.redis.multi().incr(key).pexpire(key, this.memoryMs));
    return toNumberOrNull(replies[0]) ?? 0;
  }

  /**
   * Claims a run of `runId` on (kind, target) if every limit of `settings` allows it: cooldown,
   * per-target and per-kind runs per hour and day, open breaker, failure streak, and one of the
   * kind's `max_concurrent` slots for `leaseMs` on the Redis clock. Check and count are one script
   * (see claim-scripts.ts), so replicas racing for the last allowed run get exactly one. The same
   * run id claiming again (a retried or re-delivered job) keeps its counts and only needs a slot.
   * The counters returned are the ones the script judged, for the refusal's reason.
   */
  async claim(
    kind: string,
    target: string,
    runId: string,
    settings: ClaimLimits,
    leaseMs: number,
    at = this.clock.now(),
  ): Promise<ClaimResult> {
    const keys = [
      this.key('cooldown', kind, target),
      this.key('runs', kind, target),
      this.key('runs', kind),
      this.key('failures', kind, target),
      this.key('breaker', kind, target),
      this.key('running', kind),
      this.key('claims', kind, target),
    ];
    const args = [
      at,
      runId,
      settings.cooldown,
      settings.max_per_hour.target,
      settings.max_per_day.target,
      settings.max_per_hour.global,
      settings.max_per_day.global,
      settings.max_concurrent,
      settings.max_consecutive_failures,
      leaseMs,
      this.memoryMs,
      DAY + HOUR,
      DAY,
    ];
    const reply = (await this.call(() => this.redis.eval(CLAIM, keys.length, ...keys, ...args))) as unknown[];
    const [status, last, hour, day, kindHour, kindDay, failures, breaker, running] = reply;
    const counters: TargetCounters = {
      lastRunAt: toNumberOrNull(last),
      runsLastHour: toNumberOrNull(hour) ?? 0,
      runsLastDay: toNumberOrNull(day) ?? 0,
      consecutiveFailures: toNumberOrNull(failures) ?? 0,
      breakerOpenUntil: toNumberOrNull(breaker),
    };
    const kindCounters: KindCounters = {
      runsLastHour: toNumberOrNull(kindHour) ?? 0,
      runsLastDay: toNumberOrNull(kindDay) ?? 0,
    };
    const outcome = CLAIM_STATUS[Number(status)] ?? 'refused';
    return { status: outcome, at, counters, kindCounters, running: toNumberOrNull(running) ?? 0 };
  }

  /**
   * The run's platform call is about to be sent: from now on its claim counts for good (a request
   * that was sent may land, so a later give-back would let a second run through).
   */
  async commit(kind: string, target: string, runId: string): Promise<void> {
    await this.call(() => this.redis.hdel(this.key('claims', kind, target), runId));
  }

  /**
   * Ends a claim: frees its slot and, when the run never reached `commit` (nothing was sent to the
   * platform), gives its counts and cooldown back. True when counts were given back.
   */
  async unclaim(kind: string, target: string, runId: string): Promise<boolean> {
    const keys = [
      this.key('cooldown', kind, target),
      this.key('runs', kind, target),
      this.key('runs', kind),
      this.key('running', kind),
      this.key('claims', kind, target),
    ];
    const given = await this.call(() => this.redis.eval(UNCLAIM, keys.length, ...keys, runId, this.memoryMs));
    return given === 1;
  }

  /**
   * Puts back a run remembered elsewhere (the audit log) after Redis lost it: counted in the
   * windows once per `runId`, and the cooldown moved to `at` only if that is later than what
   * Redis has.
   */
  async restoreRun(kind: string, target: string, runId: string, at: number): Promise<void> {
    const keys = [this.key('cooldown', kind, target), this.key('runs', kind, target), this.key('runs', kind)];
    await this.call(() =>
      this.redis.eval(RESTORE_RUN, keys.length, ...keys, at, runId, this.memoryMs, DAY + HOUR, DAY),
    );
  }

  /** Frees the `max_concurrent` slot of a run (its counts stay). */
  async releaseSlot(kind: string, runId: string): Promise<void> {
    await this.call(() => this.redis.zrem(this.key('running', kind), runId));
  }

  /** True when `runId` is already counted on (kind, target): a retry of a claimed run. */
  async claimed(kind: string, target: string, runId: string): Promise<boolean> {
    return (await this.call(() => this.redis.zscore(this.key('runs', kind, target), runId))) !== null;
  }

  /** Stops automatic runs on (kind, target) until a human resets it: the streak is set to `failures`. */
  async escalate(kind: string, target: string, failures: number): Promise<void> {
    const key = this.key('failures', kind, target);
    await this.call(() => this.redis.set(key, String(failures), 'PX', this.memoryMs));
  }

  /** A human's reset after an escalation (`max_consecutive_failures` reached). */
  async resetFailures(kind: string, target: string): Promise<void> {
    await this.call(() => this.redis.del(this.key('failures', kind, target)));
  }

  /** Marks the breaker of (kind, target) open for every replica until `until` (epoch ms). */
  async openBreaker(kind: string, target: string, until: number): Promise<void> {
    const ttl = Math.ceil(until - this.clock.now());
    if (ttl <= 0) return;
    await this.call(() => this.redis.set(this.key('breaker', kind, target), String(until), 'PX', ttl));
  }

  async closeBreaker(kind: string, target: string): Promise<void> {
    await this.call(() => this.redis.del(this.key('breaker', kind, target)));
  }

  /** Every breaker open fleet-wide (`vigil breaker list`), soonest to close first. */
  async openBreakers(): Promise<{ kind: string; target: string; until: number }[]> {
    const pattern = this.key('breaker', '*');
    const prefix = pattern.slice(0, -1);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.call(() => this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const values = keys.length > 0 ? await this.call(() => this.redis.mget(...keys)) : [];
    return keys
      .flatMap((key, index) => {
        const [kind = '', target = ''] = key.slice(prefix.length).split('|');
        const until = toNumberOrNull(values[index]);
        return until === null || target === '' ? [] : [{ kind, target, until }];
      })
      .sort((a, b) => a.until - b.until);
  }

  private async exec(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
    const results = await this.call(() => multi.exec());
    if (!results) throw new TransientError('policy counters transaction was aborted');
    return results.map(([error, value]) => {
      if (error) throw new TransientError('policy counters command failed', { cause: error });
      return value;
    });
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof TransientError) throw error;
      throw new TransientError('policy counters unavailable', { cause: error });
    }
  }
}

// KEYS: cooldown, runs per target, runs per kind. ARGV: at, cooldownMs, runId, memoryMs, runsTtlMs, windowMs.
const RECORD_RUN = `
-- A run id already recorded is this run again (a retried or re-delivered job): still claimed.
if redis.call('ZSCORE', KEYS[2], ARGV[3]) then return 1 end
local at = tonumber(ARGV[1])
local cooldown = tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '')
if cooldown > 0 and last and at < last + cooldown then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], at, ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', at - tonumber(ARGV[6]))
  redis.call('PEXPIRE', KEYS[i], ARGV[5])
end
return 1
`;

// KEYS: cooldown, runs per target, runs per kind. ARGV: at, run id, memoryMs, runsTtlMs, windowMs.
const RESTORE_RUN = `
local at = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '')
if not last or at > last then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) end
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], 'NX', at, ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', at - tonumber(ARGV[5]))
  redis.call('PEXPIRE', KEYS[i], ARGV[4])
end
return 1
`;

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function toNumberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}
