import type { Redis } from 'ioredis';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AuditEntry, Finding } from '../core/types.js';
import type { PolicySnapshot } from '../policies/types.js';
import type { RedisKeys } from '../store/keys.js';
import { EVENTS_KEPT, FINDING_MEMORY_MS } from './keys.js';
import type { CollectorHealth, FindingRecord, PolicyState, StatusEvent } from './types.js';

/**
 * Writes what the status read model shows into Redis, so every replica (and `vigil status`) can
 * serve the whole fleet's view: findings as the tick hands them on, every audit record after it
 * is durable, each collector tick's outcome and the policy in force. Best effort by contract: a
 * failed status write is logged and counted, never thrown — the page must not stop a tick.
 */
export class StatusRecorder {
  failures = 0;
  private policyState: PolicyState | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly replica: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Seconds from a finding's first record to its remediation's start (the latency histogram). */
    private readonly onStarted?: (seconds: number) => void,
  ) {}

  /** After the tick judged its series: raised and ongoing findings are open, cleared ones closed. */
  async findings(findings: readonly Finding[]): Promise<void> {
    if (findings.length === 0) return;
    const now = this.clock.now();
    const multi = this.redis.multi();
    for (const finding of findings) {
      const record: FindingRecord = {
        id: finding.id,
        series: finding.series,
        metric: finding.metric,
        labels: finding.labels,
        state: finding.state,
        since: finding.since,
        timestamp: finding.timestamp,
        value: finding.value,
        verdict: finding.verdict,
        updatedAt: now,
        ...(finding.state === 'cleared' ? { clearedAt: now } : {}),
      };
      multi.hset(this.keys.status('findings'), finding.id, JSON.stringify(record));
      multi.zadd(this.keys.status('findings:seen'), now, finding.id);
      multi.hsetnx(this.keys.status('findings:first'), finding.id, String(now));
    }
    await this.run('findings', multi, now);
  }

  /** After an audit entry is durable: the same record, mirrored for every replica to read. */
  async audited(entry: AuditEntry): Promise<void> {
    const event: StatusEvent = {
      time: entry.time,
      replica: entry.actor.type === 'vigil' ? entry.actor.replica : this.replica,
      seq: entry.seq,
      actor: entry.actor,
      event: entry.event,
      ...(entry.findingId ? { findingId: entry.findingId } : {}),
      ...(entry.plan !== undefined ? { plan: entry.plan } : {}),
      ...(entry.outcome ? { outcome: entry.outcome } : {}),
      ...(entry.reason ? { reason: entry.reason } : {}),
    };
    const multi = this.redis.multi();
    multi.xadd(this.keys.status('events'), 'MAXLEN', '~', EVENTS_KEPT, '*', 'e', JSON.stringify(event));
    await this.run('audit', multi);
    if (entry.event === 'started' && entry.findingId && this.onStarted) await this.observeStart(entry);
  }

  private async observeStart(entry: AuditEntry & { findingId?: string }): Promise<void> {
    try {
      const first = Number(await this.redis.hget(this.keys.status('findings:first'), entry.findingId ?? ''));
      if (Number.isFinite(first) && first > 0) this.onStarted?.(Math.max(0, entry.time - first) / 1_000);
    } catch (failure) {
      this.failed('latency', failure);
    }
  }

  /** After each tick of a collector, on whichever replica ran it. */
  async tick(id: string, outcome: CollectorHealth['lastOutcome'], error?: string): Promise<void> {
    const now = this.clock.now();
    try {
      const previous = await this.redis.hget(this.keys.status('collectors'), id);
      const before = previous ? (JSON.parse(previous) as CollectorHealth) : undefined;
      const health: CollectorHealth = {
        id,
        lastTickAt: now,
        lastOutcome: outcome,
        lastSuccessAt: outcome === 'success' ? now : (before?.lastSuccessAt ?? null),
        failures:
          outcome === 'failure'
            ? (before?.failures ?? 0) + 1
            : outcome === 'success'
              ? 0
              : (before?.failures ?? 0),
        ...(error ? { error } : {}),
      };
      await this.redis.hset(this.keys.status('collectors'), id, JSON.stringify(health));
      // A ticking replica is alive: its policy state stays current between timer heartbeats.
      await this.heartbeat();
    } catch (failure) {
      this.failed('collectors', failure);
    }
  }

  /** When a policy is loaded or a reload is rejected on this replica. */
  async policy(snapshot: PolicySnapshot | undefined, file: string, lastReloadOk: boolean): Promise<void> {
    this.policyState = {
      replica: this.replica,
      file,
      mode: snapshot?.mode ?? 'none',
      hash: snapshot?.hash ?? '',
      loadedAt: this.clock.now(),
      seenAt: this.clock.now(),
      lastReloadOk,
    };
    await this.heartbeat();
  }

  /**
   * Says this replica is alive with its policy (the daemon calls it every REPLICA_HEARTBEAT_MS):
   * readers drop replicas not heard of for REPLICA_GONE_MS, so a stopped replica's state does
   * not linger as a problem.
   */
  async heartbeat(): Promise<void> {
    if (!this.policyState) return;
    const state: PolicyState = { ...this.policyState, seenAt: this.clock.now() };
    try {
      await this.redis.hset(this.keys.status('policy'), this.replica, JSON.stringify(state));
    } catch (failure) {
      this.failed('policy', failure);
    }
  }

  private async run(what: string, multi: ReturnType<Redis['multi']>, now?: number): Promise<void> {
    try {
      await multi.exec();
      if (now !== undefined) await this.prune(now);
    } catch (failure) {
      this.failed(what, failure);
    }
  }

  /** Forgets findings not updated for FINDING_MEMORY_MS (the hash itself cannot expire fields). */
  private async prune(now: number): Promise<void> {
    const old = await this.redis.zrangebyscore(
      this.keys.status('findings:seen'),
      '-inf',
      now - FINDING_MEMORY_MS,
      'LIMIT',
      0,
      500,
    );
    if (old.length === 0) return;
    await this.redis
      .multi()
      .hdel(this.keys.status('findings'), ...old)
      .hdel(this.keys.status('findings:first'), ...old)
      .zrem(this.keys.status('findings:seen'), ...old)
      .exec();
  }

  private failed(what: string, failure: unknown): void {
    this.failures++;
    this.logger.warn({ what, error: errorMessage(failure) }, 'status not recorded');
  }
}
