import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../core/clock.js';
import { TransientError } from '../core/errors.js';
import { counterKey } from '../policies/types.js';
import type { RedisKeys } from '../store/keys.js';
import {
  type DeployMemory,
  type Hold,
  type Pause,
  pauseActive,
  type RuntimeControls,
  type Silence,
} from './types.js';

/**
 * The run-time controls in Redis (keys in store/keys.ts: `control:*`). Holds, silences and the
 * do-not-deploy memory are hashes of JSON entries, each carrying its own expiry: one HGETALL per
 * family gives a replica the whole picture, and `read()` takes all of it (and the pause) in one
 * MULTI, so a gate never sees half of a change. Expired entries are dropped on read and removed
 * by the next write of their family. Every method throws TransientError when Redis fails: the
 * callers fail closed (no controls known, no action).
 */
export class ControlStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
  ) {}

  async read(now = this.clock.now()): Promise<RuntimeControls> {
    const replies = await this.call(() =>
      this.redis
        .multi()
        .get(this.keys.control('pause'))
        .hgetall(this.keys.control('holds'))
        .hgetall(this.keys.control('silences'))
        .hgetall(this.keys.control('do-not-deploy'))
        .hgetall(this.keys.control('breaker-resets'))
        .exec(),
    );
    if (!replies) throw new TransientError('run-time controls transaction was aborted');
    const [pause, holds, silences, memory, resets] = replies.map(([error, value]) => {
      if (error) throw new TransientError('run-time controls unavailable', { cause: error });
      return value;
    });
    const pauseEntry = typeof pause === 'string' ? parse<Pause>(pause) : undefined;
    const holdList = live(entries<Hold>(holds), (hold) => hold.until, now);
    return {
      pause: pauseActive(pauseEntry, now) ? pauseEntry : undefined,
      holds: Object.fromEntries(holdList.map((hold) => [counterKey(hold.kind, hold.target), hold])),
      silences: live(entries<Silence>(silences), (silence) => silence.endsAt, now),
      doNotDeploy: live(entries<DeployMemory>(memory), (entry) => entry.until, now),
      breakerResets: Object.fromEntries(
        Object.entries((resets ?? {}) as Record<string, string>).map(([key, at]) => [key, Number(at)]),
      ),
    };
  }

  /** Places (or replaces) the hold on (kind, target). */
  async hold(hold: Hold): Promise<void> {
    await this.put('holds', counterKey(hold.kind, hold.target), hold, (h) => h.until);
  }

  /** Removes the hold on (kind, target); the removed hold, or undefined when there was none. */
  async clearHold(kind: string, target: string): Promise<Hold | undefined> {
    const held = (await this.read()).holds[counterKey(kind, target)];
    await this.call(() => this.redis.hdel(this.keys.control('holds'), counterKey(kind, target)));
    return held;
  }

  async holds(): Promise<Hold[]> {
    return Object.values((await this.read()).holds).sort((a, b) => a.since - b.since);
  }

  async pause(pause: Pause): Promise<void> {
    const key = this.keys.control('pause');
    const value = JSON.stringify(pause);
    const ttl = pause.until === null ? undefined : Math.max(1, pause.until - this.clock.now());
    await this.call(() =>
      ttl === undefined ? this.redis.set(key, value) : this.redis.set(key, value, 'PX', ttl),
    );
  }

  /** Ends the pause; the pause that was in force, or undefined when vigil was not paused. */
  async resume(): Promise<Pause | undefined> {
    const { pause } = await this.read();
    await this.call(() => this.redis.del(this.keys.control('pause')));
    return pause;
  }

  async silence(silence: Omit<Silence, 'id'>): Promise<Silence> {
    const entry: Silence = { ...silence, id: `s-${randomUUID().slice(0, 8)}` };
    await this.put('silences', entry.id, entry, (s) => s.endsAt);
    return entry;
  }

  /** Ends a silence now (its entry is removed). */
  async expireSilence(id: string): Promise<Silence | undefined> {
    const found = (await this.read()).silences.find((silence) => silence.id === id);
    if (!found) return undefined;
    await this.call(() => this.redis.hdel(this.keys.control('silences'), id));
    return found;
  }

  async silences(): Promise<Silence[]> {
    return [...(await this.read()).silences].sort((a, b) => a.startsAt - b.startsAt);
  }

  /** Records a human's breaker reset: every replica closes its local breaker opened before it. */
  async resetBreaker(kind: string, target: string): Promise<void> {
    const key = this.keys.control('breaker-resets');
    const now = String(this.clock.now());
    await this.call(() =>
      this.redis
        .multi()
        .hset(key, counterKey(kind, target), now)
        .pexpire(key, 30 * 86_400_000)
        .exec(),
    );
  }

  async rememberBadCommit(entry: DeployMemory): Promise<void> {
    await this.put('do-not-deploy', `${entry.service}|${entry.commit}`, entry, (e) => e.until);
  }

  async doNotDeploy(): Promise<DeployMemory[]> {
    return [...(await this.read()).doNotDeploy].sort((a, b) => a.since - b.since);
  }

  /** Writes one entry and collects the family's expired ones. */
  private async put<T>(
    family: 'holds' | 'silences' | 'do-not-deploy',
    field: string,
    value: T,
    expiry: (entry: T) => number,
  ): Promise<void> {
    const key = this.keys.control(family);
    const now = this.clock.now();
    const expired = Object.entries(await this.call(() => this.redis.hgetall(key))).flatMap(([name, text]) => {
      const entry = parse<T>(text);
      return entry === undefined || expiry(entry) <= now ? [name] : [];
    });
    const multi = this.redis.multi();
    if (expired.length > 0) multi.hdel(key, ...expired);
    await this.call(() => multi.hset(key, field, JSON.stringify(value)).exec());
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof TransientError) throw error;
      throw new TransientError('run-time controls unavailable', { cause: error });
    }
  }
}

function parse<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function entries<T>(hash: unknown): T[] {
  if (hash === null || typeof hash !== 'object') return [];
  return Object.values(hash as Record<string, string>).flatMap((text) => {
    const entry = parse<T>(text);
    return entry === undefined ? [] : [entry];
  });
}

function live<T>(list: readonly T[], expiry: (entry: T) => number, now: number): T[] {
  return list.filter((entry) => now < expiry(entry));
}
