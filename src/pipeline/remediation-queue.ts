import { createHash, randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { canonicalJson } from '../audit/chain.js';
import { TransientError } from '../core/errors.js';
import type { Finding } from '../core/types.js';
import type { RemediationPlan } from '../remediations/types.js';
import type { RedisKeys } from '../store/keys.js';
import type { Evidence } from './evidence.js';

/**
 * The remediation queue (BullMQ): `remediate` jobs carry one plan for one finding, `verify` jobs
 * the delayed check of a finished one. The job id is derived from the plan, so every tick and
 * every replica that decides the same change adds the same job, and BullMQ keeps one.
 */
export const REMEDIATION_QUEUE = 'remediations';

export interface RemediationJobData {
  /** Plain JSON (verdict reasons rendered): what the worker re-checks the policy with. */
  readonly finding: Finding;
  readonly ruleId: string;
  readonly plan: RemediationPlan;
  /** The collector that produced the finding's series (re-run by the verification). */
  readonly collector?: string;
  /** Set by `enqueue`: tells the replica that added the job from one that raced it. */
  readonly token?: string;
}

export interface VerificationJobData {
  readonly findingId: string;
  readonly plan: RemediationPlan;
  readonly remediationJobId: string;
  /** The series the job was queued for, as it was then (older jobs may lack it). */
  readonly trigger?: Evidence;
}

export type EnqueueResult =
  /** `again`: how the plan's previous job ended without a run (`failed: …`, `was skipped`); a new run. */
  | { readonly status: 'enqueued'; readonly jobId: string; readonly again?: string }
  /** The same plan's job is queued, running or done (`state`), or another replica added it just now. */
  | { readonly status: 'duplicate'; readonly jobId: string; readonly state: string }
  | { readonly status: 'full'; readonly jobId: string; readonly queued: number };

/** How long one replica holds the right to queue a failed plan again (the others join its job). */
const REQUEUE_LOCK_MS = 60_000;

export interface RemediationQueueSettings {
  /** Attempts per remediation job (transient failures are retried with exponential backoff). */
  readonly attempts: number;
  /** Jobs waiting at most; beyond that a decision to act is refused (and audited as such). */
  readonly maxQueued: number;
  /** BullMQ's `add` does not fail fast when Redis is away: this bounds it. */
  readonly addTimeoutMs: number;
  readonly backoffMs: number;
}

/**
 * How a finished job ended without standing for its plan any more: failed terminally, or skipped
 * by the worker's checks (`{ ran: false }`). Undefined while it is queued or running, or when it ran.
 */
function endedWithoutRun(
  state: string,
  job: { failedReason?: string; returnvalue?: unknown },
): string | undefined {
  if (state === 'failed') return `failed: ${job.failedReason || 'unknown error'}`;
  if (state === 'completed' && (job.returnvalue as { ran?: unknown } | null)?.ran === false)
    return 'was skipped';
  return undefined;
}

/** `kind|target|hash`: BullMQ refuses ids with `:` and all-digit ids. */
export function remediationJobId(plan: RemediationPlan): string {
  const hash = createHash('sha256').update(canonicalJson(plan)).digest('hex').slice(0, 16);
  return `${plan.kind}|${plan.target}|${hash}`;
}

export class RemediationQueue {
  constructor(
    readonly queue: Queue,
    private readonly settings: RemediationQueueSettings,
    /** Where replicas agree on who queues a failed plan again (the queue's own Redis and namespace). */
    private readonly store: { readonly redis: Redis; readonly keys: RedisKeys },
  ) {}

  /**
   * Adds the job unless the same plan is already queued, running or done, or the queue is full. A
   * plan whose job failed terminally is queued again (its failed job removed): the policy has just
   * decided to act again, and a failed job must not block the plan silently. Exactly one caller
   * gets `enqueued` for one job, however many replicas decide at once: BullMQ keeps the first job
   * of an id, and the caller whose token the stored job carries is the one that added it.
   */
  async enqueue(data: RemediationJobData): Promise<EnqueueResult> {
    const jobId = remediationJobId(data.plan);
    const existing = await this.bounded(this.queue.getJob(jobId));
    let again: string | undefined;
    if (existing) {
      const state = await this.bounded(existing.getState());
      const previous = endedWithoutRun(state, existing);
      if (previous === undefined) return { status: 'duplicate', jobId, state };
      if (!(await this.takeOver(jobId, existing.timestamp)))
        return { status: 'duplicate', jobId, state: 'queued again' };
      again = previous;
      await this.bounded(existing.remove());
    }
    const counts = await this.bounded(this.queue.getJobCounts('waiting', 'delayed', 'prioritized'));
    const queued = Object.values(counts).reduce((sum, count) => sum + count, 0);
    if (queued >= this.settings.maxQueued) return { status: 'full', jobId, queued };
    const token = randomUUID();
    await this.bounded(
      this.queue.add(
        'remediate',
        { ...(JSON.parse(JSON.stringify(data)) as RemediationJobData), token },
        {
          jobId,
          attempts: this.settings.attempts,
          backoff: { type: 'exponential', delay: this.settings.backoffMs },
        },
      ),
    );
    const stored = await this.bounded(this.queue.getJob(jobId));
    if ((stored?.data as RemediationJobData | undefined)?.token !== token) {
      return { status: 'duplicate', jobId, state: stored ? await this.bounded(stored.getState()) : 'gone' };
    }
    return { status: 'enqueued', jobId, ...(again === undefined ? {} : { again }) };
  }

  /** One replica wins the right to queue the failed job of `jobId` (created at `created`) again. */
  private async takeOver(jobId: string, created: number): Promise<boolean> {
    const key = this.store.keys.requeueLock(jobId, created);
    return (await this.bounded(this.store.redis.set(key, '1', 'PX', REQUEUE_LOCK_MS, 'NX'))) === 'OK';
  }

  /** The verification of a finished remediation, after `delayMs`; `not-yet` retries every `delayMs`. */
  async scheduleVerification(data: VerificationJobData, delayMs: number, attempts: number): Promise<void> {
    await this.bounded(
      this.queue.add('verify', data, {
        jobId: `verify|${data.remediationJobId}`,
        delay: delayMs,
        attempts,
        backoff: { type: 'fixed', delay: delayMs },
      }),
    );
  }

  private async bounded<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TransientError(`remediation queue did not answer within ${this.settings.addTimeoutMs} ms`),
          ),
        this.settings.addTimeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
