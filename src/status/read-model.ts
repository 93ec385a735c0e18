import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ControlStore } from '../controls/store.js';
import type { RuntimeControls } from '../controls/types.js';
import type { Clock } from '../core/clock.js';
import { ApprovalStore } from '../policies/approvals.js';
import { CounterStore } from '../policies/counters.js';
import { counterKey, type PolicySnapshot } from '../policies/types.js';
import type { RedisKeys } from '../store/keys.js';
import { REPLICA_GONE_MS } from './keys.js';
import { decisionsByFinding, remediationsOf } from './timeline.js';
import type {
  BreakerState,
  Budget,
  CollectorHealth,
  ControlState,
  FindingRecord,
  FindingWithDecisions,
  PolicyState,
  QueueState,
  RemediationView,
  StatusEvent,
  StatusOverview,
} from './types.js';

/**
 * The one read model of what vigil sees and did, read from Redis only (what every replica's
 * recorder wrote, the policy counters, approvals and the remediation queue), so any replica —
 * or `vigil status` without a daemon — serves the same view. Reads only; every call is a few
 * bounded Redis commands (the event stream is read up to `eventsRead` entries).
 */
export interface StatusReaderDeps {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly clock: Clock;
  /** The policy in force here (budgets need its limits); omitted by readers without one. */
  readonly policy?: () => PolicySnapshot | undefined;
  /** The remediation queue, for its depth and oldest waiting job. */
  readonly queue?: () => Queue | undefined;
  /** A collector whose last success is older than this is stale (default: 3 × its interval). */
  readonly staleAfterMs?: (collectorId: string) => number | undefined;
  /** Newest audit events read for decisions and remediations (default 5,000). */
  readonly eventsRead?: number;
}

export class StatusReader {
  private readonly keys: RedisKeys;
  private readonly counters: CounterStore;
  private readonly approvals: ApprovalStore;
  private readonly runtime: ControlStore;

  constructor(private readonly deps: StatusReaderDeps) {
    this.keys = deps.keys;
    this.counters = new CounterStore({ redis: deps.redis, keys: deps.keys, clock: deps.clock });
    this.approvals = new ApprovalStore(deps.redis, deps.keys, deps.clock);
    this.runtime = new ControlStore(deps.redis, deps.keys, deps.clock);
  }

  async overview(): Promise<StatusOverview> {
    const now = this.deps.clock.now();
    const [records, events, collectors, policy, breakers, approvals, queue, runtime] = await Promise.all([
      this.findingRecords(),
      this.events(),
      this.collectors(),
      this.policyStates(now),
      this.breakers(now),
      this.approvals.pending(),
      this.queueState(now),
      this.runtime.read(now),
    ]);
    const decisions = decisionsByFinding(events);
    const findings: FindingWithDecisions[] = records
      .filter((record) => record.state !== 'cleared')
      .map((record) => ({ ...record, decisions: decisions.get(record.id) ?? [] }));
    const remediations = remediationsOf(events).slice(0, 50);
    const budgets = await this.budgets(remediations, events, now);
    const controls = [...runtimeControls(runtime), ...this.controls(now)];
    const problems = healthProblems({ breakers, budgets, controls, collectors, policy, now }, this.deps);
    return {
      now,
      health: { ok: problems.length === 0, problems },
      policy,
      findings,
      remediations,
      breakers,
      budgets,
      approvals,
      controls,
      collectors,
      queue,
    };
  }

  /** Every remembered finding, newest update first (open and recently cleared). */
  async findingRecords(): Promise<FindingRecord[]> {
    const raw = await this.deps.redis.hvals(this.keys.status('findings'));
    return raw.map((text) => JSON.parse(text) as FindingRecord).sort((a, b) => b.updatedAt - a.updatedAt);
  }

  async finding(id: string): Promise<FindingRecord | undefined> {
    const raw = await this.deps.redis.hget(this.keys.status('findings'), id);
    return raw ? (JSON.parse(raw) as FindingRecord) : undefined;
  }

  /** The newest audit events of every replica, oldest first. */
  async events(count = this.deps.eventsRead ?? 5_000): Promise<StatusEvent[]> {
    const entries = await this.deps.redis.xrevrange(this.keys.status('events'), '+', '-', 'COUNT', count);
    const events: StatusEvent[] = [];
    for (const [, fields] of entries) {
      const index = fields.indexOf('e');
      if (index >= 0) events.push(JSON.parse(fields[index + 1] as string) as StatusEvent);
    }
    return events.reverse();
  }

  async remediations(): Promise<RemediationView[]> {
    return remediationsOf(await this.events());
  }

  async collectors(): Promise<CollectorHealth[]> {
    const raw = await this.deps.redis.hvals(this.keys.status('collectors'));
    return raw.map((text) => JSON.parse(text) as CollectorHealth).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The policy of every replica heard of within REPLICA_GONE_MS. */
  private async policyStates(now: number): Promise<PolicyState[]> {
    const raw = await this.deps.redis.hvals(this.keys.status('policy'));
    return raw
      .map((text) => JSON.parse(text) as PolicyState)
      .filter((state) => state.seenAt > now - REPLICA_GONE_MS)
      .sort((a, b) => a.replica.localeCompare(b.replica));
  }

  /** Breakers open fleet-wide: the worker copies an opening into Redis until it may close. */
  private async breakers(now: number): Promise<BreakerState[]> {
    const pattern = `${this.counters.key('breaker', '')}*`;
    const keys = await scanAll(this.deps.redis, pattern);
    if (keys.length === 0) return [];
    const values = await this.deps.redis.mget(...keys);
    const prefix = this.counters.key('breaker', '');
    const open: BreakerState[] = [];
    keys.forEach((key, index) => {
      const until = Number(values[index]);
      const [kind = '', target = ''] = key.slice(prefix.length).split('|');
      if (Number.isFinite(until) && until > now) open.push({ kind, target, openUntil: until });
    });
    return open.sort((a, b) => counterKey(a.kind, a.target).localeCompare(counterKey(b.kind, b.target)));
  }

  /** Runs left per (kind, target) that vigil decided about recently. */
  private async budgets(
    remediations: readonly RemediationView[],
    events: readonly StatusEvent[],
    now: number,
  ): Promise<Budget[]> {
    const pairs = new Map<string, { kind: string; target: string }>();
    for (const view of remediations) pairs.set(counterKey(view.kind, view.target), view);
    for (const event of events) {
      const plan = event.plan as { remediation?: string; target?: string } | undefined;
      if (event.event === 'decision' && plan?.remediation && plan.target)
        pairs.set(counterKey(plan.remediation, plan.target), { kind: plan.remediation, target: plan.target });
    }
    if (pairs.size === 0) return [];
    const counters = await this.counters.read([...pairs.values()], now);
    const snapshot = this.deps.policy?.();
    return [...pairs.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, { kind, target }]) => {
        const own = counters.targets[key];
        const settings = snapshot?.remediations[kind];
        const maxPerHour = settings?.max_per_hour.target ?? null;
        const failures = own?.consecutiveFailures ?? 0;
        const lastRun = own?.lastRunAt ?? null;
        const cooldownUntil = lastRun !== null && settings ? lastRun + settings.cooldown : null;
        return {
          kind,
          target,
          runsLastHour: own?.runsLastHour ?? 0,
          maxPerHour,
          leftThisHour: maxPerHour === null ? null : Math.max(0, maxPerHour - (own?.runsLastHour ?? 0)),
          consecutiveFailures: failures,
          escalated: failures >= (settings?.max_consecutive_failures ?? Number.POSITIVE_INFINITY),
          cooldownUntil: cooldownUntil !== null && cooldownUntil > now ? cooldownUntil : null,
        };
      });
  }

  /** Manual overrides of the policy in force that are active now, and its do-not-deploy pins. */
  private controls(now: number): ControlState[] {
    const snapshot = this.deps.policy?.();
    if (!snapshot) return [];
    return snapshot.overrides
      .filter((override) => (override.startsAt ?? 0) <= now && override.endsAt > now)
      .map(
        (override): ControlState => ({
          kind: 'override',
          id: override.id,
          ...(override.target ? { target: override.target } : {}),
          by: override.createdBy,
          reason: `${override.effect}: ${override.reason}`,
          until: override.endsAt,
        }),
      )
      .concat(
        snapshot.doNotDeploy.map((pin) => ({
          kind: 'do-not-deploy' as const,
          id: `${pin.service}@${pin.commit}`,
          target: pin.service,
          by: pin.created_by,
          reason: `never deploy ${pin.commit}: ${pin.reason}`,
          until: null,
        })),
      );
  }

  private async queueState(now: number): Promise<QueueState | null> {
    const queue = this.deps.queue?.();
    if (!queue) return null;
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
    const [oldest] = await queue.getJobs(['waiting', 'prioritized'], 0, 0, true);
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      oldestWaitingMs: oldest ? Math.max(0, now - oldest.timestamp) : null,
    };
  }
}

/** Holds, the pause, silences and vigil's own do-not-deploy memory, as the read model lists them. */
function runtimeControls(runtime: RuntimeControls): ControlState[] {
  const controls: ControlState[] = [];
  if (runtime.pause)
    controls.push({
      kind: 'pause',
      id: 'pause',
      by: runtime.pause.by,
      reason: runtime.pause.reason,
      until: runtime.pause.until,
    });
  for (const hold of Object.values(runtime.holds))
    controls.push({
      kind: 'hold',
      id: counterKey(hold.kind, hold.target),
      target: hold.target,
      by: hold.by,
      reason: `${hold.kind}: ${hold.reason}`,
      until: hold.until,
    });
  for (const silence of runtime.silences)
    controls.push({
      kind: 'silence',
      id: silence.id,
      target: silence.target,
      by: silence.createdBy,
      reason: `${silence.kind ?? 'every remediation'}: ${silence.reason}`,
      until: silence.endsAt,
    });
  for (const memory of runtime.doNotDeploy)
    controls.push({
      kind: 'do-not-deploy',
      id: `${memory.service}@${memory.commit}`,
      target: memory.service,
      by: 'vigil',
      reason: `rolled back: ${memory.evidence}`,
      until: memory.until,
    });
  return controls;
}

/** What makes vigil not healthy for an on-call (and `vigil status` exit 1). */
function healthProblems(
  state: {
    breakers: readonly BreakerState[];
    budgets: readonly Budget[];
    controls: readonly ControlState[];
    collectors: readonly CollectorHealth[];
    policy: readonly PolicyState[];
    now: number;
  },
  deps: StatusReaderDeps,
): string[] {
  const problems: string[] = [];
  for (const breaker of state.breakers)
    problems.push(
      `breaker open on ${breaker.kind} ${breaker.target} until ${new Date(breaker.openUntil).toISOString()}`,
    );
  for (const budget of state.budgets)
    if (budget.escalated)
      problems.push(
        `escalated: ${budget.kind} on ${budget.target} stopped after ${budget.consecutiveFailures} failure(s); a human must reset it`,
      );
  for (const control of state.controls)
    if (control.kind === 'hold' || control.kind === 'pause')
      problems.push(
        `${control.kind} on ${control.target ?? 'every target'} by ${control.by ?? '?'}: ${control.reason ?? ''}`,
      );
  for (const collector of state.collectors) {
    if (collector.lastOutcome === 'failure')
      problems.push(
        `collector ${collector.id} failing (${collector.failures} tick(s)): ${collector.error ?? ''}`,
      );
    const stale = deps.staleAfterMs?.(collector.id);
    if (stale !== undefined && (collector.lastSuccessAt ?? 0) < state.now - stale)
      problems.push(`collector ${collector.id} stale: no successful tick for ${Math.round(stale / 1000)} s`);
  }
  for (const policy of state.policy)
    if (!policy.lastReloadOk) problems.push(`replica ${policy.replica}: last policy reload was rejected`);
  return problems;
}

async function scanAll(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}
