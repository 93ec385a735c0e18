import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AuditRecord } from '../audit/chain.js';
import type { PlatformAccess } from '../collectors/types.js';
import type { ControlStore } from '../controls/store.js';
import type { Hold } from '../controls/types.js';
import type { Clock } from '../core/clock.js';
import { errorMessage, isVigilError, TransientError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { counter, type MetricsRegistry } from '../core/metrics.js';
import type { Finding } from '../core/types.js';
import type { NotifyEvent, RemediationStage } from '../notify/types.js';
import { isRateLimited, retryAfterMs } from '../platform/errors.js';
import type { ApprovalStore } from '../policies/approvals.js';
import type { CounterStore } from '../policies/counters.js';
import type { RemediationSettings } from '../policies/schema.js';
import { counterKey, type PolicySnapshot, settingsOf } from '../policies/types.js';
import type { ExecuteOutcome, RemediationContext, RemediationPlan } from '../remediations/types.js';
import { redisKeys } from '../store/keys.js';
import { bullConnection, evictionProblem } from '../store/redis.js';
import { BreakerSet, type RemediationBreaker } from './breakers.js';
import { type Evidence, evidenceOf } from './evidence.js';
import {
  REMEDIATION_QUEUE,
  type RemediationJobData,
  RemediationQueue,
  type VerificationJobData,
} from './remediation-queue.js';
import { rollBack } from './rollback.js';
import { claimRun } from './run-claim.js';
import { recoveryChecks, type VerificationDeps, verifyRemediation } from './verification.js';

/**
 * The remediation worker: for each `remediate` job, re-check the policy (kill switch, overrides,
 * maintenance, freeze, breaker: a decision can go stale while it waits), claim the run in Redis
 * (cooldown, atomically across replicas), audit "started" and wait for it (fail closed), execute
 * through a circuit breaker per kind and target, audit the outcome, announce it, and schedule the
 * verification. Transient failures are retried by BullMQ with backoff; permanent ones and an open
 * breaker end the job. Execution reads the platform first, so a job that runs twice acts once.
 */
export interface RemediationWorkerSettings {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly concurrency: number;
  readonly attempts: number;
  readonly verifyAfterMs: number;
  /** Verification checks before `not-yet` counts as ineffective. */
  readonly verifyAttempts: number;
  /** gcp.timeout; remediation calls are bounded by their kind's `breaker.timeout` instead. */
  readonly callTimeoutMs: number;
  readonly maxQueued: number;
  readonly backoffMs: number;
  /**
   * BullMQ's job lock (default 30 s) and stalled-job check (default 30 s): a job whose worker died
   * runs again after about lockDuration + stalledInterval. Tests shorten both.
   */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
}

export interface RemediationWorkerDeps {
  readonly policy: () => PolicySnapshot | undefined;
  readonly counters: CounterStore;
  /** Human approvals (`vigil approve`), honoured again when the job runs. */
  readonly approvals?: ApprovalStore;
  readonly audit: { append(record: AuditRecord): Promise<unknown> };
  readonly announce: (event: NotifyEvent) => unknown;
  readonly platform: PlatformAccess;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Why no run may be claimed now (e.g. counters not rebuilt after Redis came back), or null. */
  readonly claimsBlocked?: () => string | null;
  /** Run-time controls: re-checked before every run; holds are placed here. */
  readonly controls?: ControlStore;
  /** Re-collection of the triggering series (verification by the metric); platform checks only without it. */
  readonly verification?: VerificationDeps;
}

/** What a remediate job resolves with; `ran: false` lets the plan be queued again later. */
export interface RemediationResult {
  readonly ran: boolean;
}

const NOT_RUN: RemediationResult = Object.freeze({ ran: false });

/** How often the worker re-reads Redis' `maxmemory-policy` (it refuses to run on an evicting one). */
const EVICTION_CHECK_MS = 5_000;

/** How long a job over its kind's `max_concurrent` waits before it tries again. */
const SLOT_RETRY_MS = 1_000;

type Breaker = RemediationBreaker;

export class RemediationWorker {
  readonly queue: RemediationQueue;
  private worker: Worker | undefined;
  private readonly connections: Redis[] = [];
  private readonly breakers: BreakerSet;
  private readonly shutdown = new AbortController();
  private stopping: Promise<void> | undefined;
  private eviction: { at: number; problem: Promise<string | null> } | undefined;
  private checker: Redis | undefined;
  private readonly outcomes;

  constructor(
    private readonly settings: RemediationWorkerSettings,
    private readonly deps: RemediationWorkerDeps,
  ) {
    const queue = new Queue(REMEDIATION_QUEUE, {
      connection: this.connection(),
      prefix: settings.prefix,
      // Finished jobs stay a week so their ids keep deduplicating the same plan.
      defaultJobOptions: {
        removeOnComplete: { age: 7 * 86_400, count: 1_000 },
        removeOnFail: { count: 1_000 },
      },
    });
    queue.on('error', (error) => deps.logger.warn({ error: error.message }, 'remediation queue error'));
    this.queue = new RemediationQueue(
      queue,
      {
        attempts: settings.attempts,
        maxQueued: settings.maxQueued,
        addTimeoutMs: 5_000,
        backoffMs: settings.backoffMs,
      },
      { redis: this.connection(), keys: redisKeys(settings.prefix) },
    );
    this.breakers = new BreakerSet();
    this.outcomes = counter(deps.metrics, {
      name: 'vigil_remediations_total',
      help: 'Remediation steps by kind and stage (executed, already-satisfied, skipped, failed, verified, ineffective)',
      labelNames: ['kind', 'stage'] as const,
    });
  }

  start(): void {
    if (this.worker) return;
    this.worker = new Worker(REMEDIATION_QUEUE, (job: Job, token?: string) => this.process(job, token), {
      connection: this.connection(),
      prefix: this.settings.prefix,
      concurrency: this.settings.concurrency,
      ...(this.settings.lockDurationMs ? { lockDuration: this.settings.lockDurationMs } : {}),
      ...(this.settings.stalledIntervalMs ? { stalledInterval: this.settings.stalledIntervalMs } : {}),
    });
    this.worker.on('error', (error) =>
      this.deps.logger.warn({ error: error.message }, 'remediation worker error'),
    );
  }

  /** Stops taking jobs and waits for running ones (the daemon bounds this), then closes. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    this.shutdown.abort(new Error('vigil is shutting down'));
    await this.worker?.close();
    await this.queue.queue.close();
    this.breakers.shutdown();
    for (const connection of this.connections) connection.disconnect();
  }

  private async process(job: Job, token: string | undefined): Promise<RemediationResult | undefined> {
    if (job.name === 'verify') {
      await this.verify(job as Job<VerificationJobData>);
      return undefined;
    }
    return this.remediate(job as Job<RemediationJobData>, token);
  }

  /** Resolves `{ ran: false }` when the job was skipped: it does not stand for its plan any more. */
  private async remediate(
    job: Job<RemediationJobData>,
    token: string | undefined,
  ): Promise<RemediationResult> {
    const { finding, ruleId, plan } = job.data;
    const logger = this.deps.logger.child({ jobId: job.id, findingId: finding.id, target: plan.target });
    const snapshot = this.deps.policy();
    if (!snapshot) throw new TransientError('no policy loaded');
    // Before the claim and the audit: an open breaker means no attempt at all.
    const breaker = this.breakers.for(plan, snapshot);
    const resets = (await this.deps.controls?.read())?.breakerResets;
    this.breakers.resetIfClosedSince(plan, resets?.[counterKey(plan.kind, plan.target)]);
    if (breaker.opened) {
      await this.report(
        'skipped',
        finding.id,
        plan,
        `circuit breaker for ${plan.kind} on ${plan.target} is open`,
        logger,
      );
      return NOT_RUN;
    }
    // One job instance, one run: a plan queued again after its job failed is a new run.
    const runId = `${job.id}@${job.timestamp}`;
    const claim = await claimRun({ finding, ruleId, plan, runId }, snapshot, {
      ...this.deps,
      redisProblem: () => this.redisProblem(),
    });
    if (claim.status === 'skip') {
      await this.report('skipped', finding.id, plan, claim.reason, logger);
      return NOT_RUN;
    }
    if (claim.status === 'busy') {
      // `max_concurrent` runs of a kind across every replica; a job over it waits its turn.
      logger.info({ running: claim.running }, 'remediation waits for a free slot of its kind');
      await job.moveToDelayed(Date.now() + SLOT_RETRY_MS, token);
      throw new DelayedError();
    }
    try {
      await this.run(job, runId, finding, plan, snapshot, breaker, logger);
      return { ran: true };
    } finally {
      // Frees the slot; a run that never reached the platform also gets its counts back.
      await this.deps.counters.unclaim(plan.kind, plan.target, runId);
    }
  }

  /** The claimed part of a run: audit, execution, outcome, verification. */
  private async run(
    job: Job<RemediationJobData>,
    runId: string,
    finding: Finding,
    plan: RemediationPlan,
    snapshot: PolicySnapshot,
    breaker: Breaker,
    logger: Logger,
  ): Promise<void> {
    // Fail closed: without the "started" record nothing happens (the job fails and is retried).
    await this.deps.audit.append({ event: 'started', findingId: finding.id, plan, reason: `job ${job.id}` });
    await this.deps.counters.commit(plan.kind, plan.target, runId);
    let outcome: ExecuteOutcome;
    try {
      outcome = await breaker.fire(plan, this.context(snapshot, plan));
    } catch (error) {
      if (this.shutdown.signal.aborted) {
        // Our own shutdown cut the call short: not the target's fault. Execution reads the platform
        // first, so the retry (here after a restart, or on another replica) finishes the job.
        await this.report(
          'interrupted',
          finding.id,
          plan,
          `stopped by shutdown (${errorMessage(error)}); a request already sent may still land, and the retry reads the platform before acting`,
          logger,
        );
        throw error;
      }
      if (isRateLimited(error)) return this.deferred(job, error, finding.id, plan, logger);
      await this.failed(error, breaker, finding.id, plan, snapshot, logger);
      const permanent = (isVigilError(error) && error.kind === 'permanent') || breaker.opened;
      if (permanent) throw new UnrecoverableError(errorMessage(error));
      throw error;
    }
    await this.deps.counters.recordOutcome(plan.kind, plan.target, 'success');
    const stage: RemediationStage = outcome.status === 'changed' ? 'executed' : 'already-satisfied';
    await this.report(stage, finding.id, plan, outcome.detail, logger);
    const trigger = evidenceOf(
      finding,
      { action: 'act', ruleId: job.data.ruleId, reason: '' },
      job.data.collector,
      this.deps.clock.now(),
    );
    await this.queue.scheduleVerification(
      { findingId: finding.id, plan, remediationJobId: String(job.id), trigger },
      this.settings.verifyAfterMs,
      Math.max(
        this.settings.verifyAttempts,
        recoveryChecks(settingsOf(snapshot, plan.kind), this.settings.verifyAfterMs),
      ),
    );
  }

  /**
   * The platform answered 429: not the target's failure and not an attempt. The whole queue waits
   * the Retry-After (the quota is the project's, not the job's), then the job runs again.
   */
  private async deferred(
    job: Job<RemediationJobData>,
    error: unknown,
    findingId: string,
    plan: RemediationPlan,
    logger: Logger,
  ): Promise<never> {
    const waitMs = retryAfterMs(error);
    logger.warn({ waitMs, error: errorMessage(error) }, 'platform rate limit; remediation deferred');
    await this.deps.audit.append({
      event: 'remediation-deferred',
      findingId,
      plan,
      reason: `rate limited by the platform (${errorMessage(error)}); retrying job ${job.id} in ${Math.ceil(waitMs / 1_000)} s, not counted as a failure`,
    });
    await this.queue.queue.rateLimit(waitMs);
    throw Worker.RateLimitError();
  }

  private async failed(
    error: unknown,
    breaker: Breaker,
    findingId: string,
    plan: RemediationPlan,
    snapshot: PolicySnapshot,
    logger: Logger,
  ): Promise<void> {
    const settings = settingsOf(snapshot, plan.kind);
    if (breaker.opened) {
      await this.deps.counters.openBreaker(
        plan.kind,
        plan.target,
        this.deps.clock.now() + settings.breaker.reset_timeout,
      );
    }
    const streak = await this.deps.counters.recordOutcome(plan.kind, plan.target, 'failure');
    const kind = isVigilError(error) ? error.kind : 'unknown';
    const detail = `${errorMessage(error)} (${kind}; ${streak} failure${streak === 1 ? '' : 's'} in a row${breaker.opened ? '; breaker open' : ''})`;
    await this.report('failed', findingId, plan, detail, logger);
    const max = settings.max_consecutive_failures;
    if (streak >= max) {
      await this.placeHold(
        plan,
        settings,
        `${streak} failures in a row (max_consecutive_failures: ${max}), last: ${errorMessage(error)}`,
      );
    }
  }

  /** The delayed check of a finished run (verification.ts); this worker reports its verdicts. */
  private async verify(job: Job<VerificationJobData>): Promise<void> {
    const { plan, findingId } = job.data;
    const logger = this.deps.logger.child({ jobId: job.id, findingId, target: plan.target });
    const snapshot = this.deps.policy();
    const settings = settingsOf(snapshot, plan.kind);
    const attempt = job.attemptsMade + 1;
    const final = attempt >= (job.opts.attempts ?? 1);
    const result = await verifyRemediation(
      {
        plan,
        trigger: job.data.trigger ?? unknownTrigger(findingId),
        settings,
        context: this.context(snapshot, plan),
        final,
        finalForMetric: final || attempt >= recoveryChecks(settings, this.settings.verifyAfterMs),
      },
      this.deps.verification ?? {},
    );
    if (result.status === 'retry') throw new TransientError(result.detail);
    if (result.status === 'unverified')
      return this.report('unverified', findingId, plan, result.detail, logger);
    if (result.status === 'failed') {
      await this.report('failed', findingId, plan, `the change is not in effect: ${result.detail}`, logger);
      return this.escalate(plan, settings, `${plan.description} did not take: ${result.detail}`);
    }
    if (result.status === 'unhealthy') {
      await this.report('ineffective', findingId, plan, result.detail, logger);
      const rolled = await rollBack(plan, findingId, result.detail, {
        controls: this.deps.controls,
        audit: this.deps.audit,
        announce: this.deps.announce,
        clock: this.deps.clock,
        context: this.context(snapshot, plan),
        paused: snapshot?.mode === 'off',
        report: (stage, id, done, detail) => this.report(stage, id, done, detail, logger),
      });
      if (rolled !== 'rolled-back')
        await this.escalate(plan, settings, `${result.detail}; not rolled back (${rolled})`);
      return;
    }
    for (const verdict of result.series) {
      const { stage, detail } = verdict;
      await this.report(stage, verdict.findingId, plan, `${detail} (${result.platform})`, logger, {
        series: verdict.series,
        before: verdict.before,
        after: verdict.after,
        baseline: verdict.baseline,
      });
    }
    await this.deps.verification?.evidence?.forget(
      plan,
      result.series.map((verdict) => verdict.series),
    );
    const ineffective = result.series.filter((verdict) => verdict.stage === 'ineffective');
    if (ineffective.length > 0) {
      const what = ineffective.map((verdict) => verdict.series).join(', ');
      await this.escalate(plan, settings, `${plan.description} did not fix ${what}`);
    }
  }

  /**
   * Stops automatic runs on (kind, target): the failure streak at its maximum (the failures gate)
   * and a hold for `hold_for` with the reason (the hold gate), audited and announced as an escalation.
   */
  private async escalate(plan: RemediationPlan, settings: RemediationSettings, why: string): Promise<void> {
    await this.deps.counters.escalate(plan.kind, plan.target, settings.max_consecutive_failures);
    await this.placeHold(plan, settings, why);
  }

  private async placeHold(plan: RemediationPlan, settings: RemediationSettings, why: string): Promise<void> {
    if (!this.deps.controls) return;
    const now = this.deps.clock.now();
    const hold: Hold = {
      kind: plan.kind,
      target: plan.target,
      since: now,
      until: now + settings.hold_for,
      by: 'vigil',
      reason: why,
    };
    await this.deps.controls.hold(hold);
    const text = `${plan.kind}/${plan.target} held until ${new Date(hold.until).toISOString()}: ${why}; clear with: vigil hold clear ${plan.kind} ${plan.target} --as NAME --reason TEXT`;
    await this.deps.audit.append({ event: 'hold-placed', plan: hold, reason: text });
    this.deps.announce({ type: 'control', severity: 'escalation', action: 'hold-placed', text });
  }

  /** Audits (awaited), counts, logs and announces one step. */
  private async report(
    stage: RemediationStage,
    findingId: string,
    plan: RemediationPlan,
    detail: string,
    logger: Logger,
    verification?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    this.outcomes.inc({ kind: plan.kind, stage });
    const level = stage === 'failed' || stage === 'ineffective' ? 'error' : 'info';
    logger[level]({ stage, plan: plan.description, detail }, 'remediation');
    await this.deps.audit.append({
      event: `remediation-${stage}`,
      findingId,
      plan: verification ? { ...plan, verification } : plan,
      outcome: stage,
      reason: detail,
    });
    this.deps.announce({ type: 'remediation', stage, findingId, plan, detail });
  }

  private context(snapshot: PolicySnapshot | undefined, plan: RemediationPlan): RemediationContext {
    // The remediation's own timeout bounds its calls (a rollout may take minutes), not gcp.timeout.
    // Each call gets half of it, so a call that timed out can still be fenced (run-job) within it.
    const timeout = settingsOf(snapshot, plan.kind).breaker.timeout;
    return {
      cloudRun: this.deps.platform.cloudRun(),
      signal: AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(timeout)]),
      timeoutMs: Math.max(1, Math.floor(timeout / 2)),
    };
  }

  /** Redis' eviction policy, read at most every few seconds (CONFIG GET on every job would be waste). */
  private redisProblem(): Promise<string | null> {
    const blocked = this.deps.claimsBlocked?.();
    if (blocked) return Promise.resolve(blocked);
    const now = Date.now();
    if (!this.eviction || now - this.eviction.at > EVICTION_CHECK_MS) {
      const check = evictionProblem(this.checkConnection());
      this.eviction = { at: now, problem: check };
    }
    return this.eviction.problem;
  }

  private checkConnection(): Redis {
    this.checker ??= this.connection();
    return this.checker;
  }

  private connection(): Redis {
    return bullConnection(this.settings.redisUrl, this.connections);
  }
}

/** A verification job queued before jobs carried their trigger: nothing to re-collect. */
function unknownTrigger(findingId: string): Evidence {
  return {
    findingId,
    series: `series of ${findingId}`,
    metric: '',
    labels: {},
    value: Number.NaN,
    baseline: null,
    collector: undefined,
    params: {},
    decidedAt: 0,
  };
}
