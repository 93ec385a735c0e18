import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { canonicalJson } from '../audit/chain.js';
import { TransientError } from '../core/errors.js';
import type { Finding } from '../core/types.js';
import type { RemediationPlan } from '../remediations/types.js';
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
}

export interface VerificationJobData {
  readonly findingId: string;
  readonly plan: RemediationPlan;
  readonly remediationJobId: string;
  /** The series the job was queued for, as it was then (older jobs may lack it). */
  readonly trigger?: Evidence;
}

export type EnqueueResult =
  | { readonly status: 'enqueued' | 'duplicate'; readonly jobId: string }
  | { readonly status: 'full'; readonly jobId: string; readonly queued: number };

export interface RemediationQueueSettings {
  /** Attempts per remediation job (transient failures are retried with exponential backoff). */
  readonly attempts: number;
  /** Jobs waiting at most; beyond that a decision to act is refused (and audited as such). */
  readonly maxQueued: number;
  /** BullMQ's `add` does not fail fast when Redis is away: this bounds it. */
  readonly addTimeoutMs: number;
  readonly backoffMs: number;
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
  ) {}

  /** Adds the job unless the same plan is already queued, running or recently done, or the queue is full. */
  async enqueue(data: RemediationJobData): Promise<EnqueueResult> {
    const jobId = remediationJobId(data.plan);
    if (await this.bounded(this.queue.getJob(jobId))) return { status: 'duplicate', jobId };
    const counts = await this.bounded(this.queue.getJobCounts('waiting', 'delayed', 'prioritized'));
    const queued = Object.values(counts).reduce((sum, count) => sum + count, 0);
    if (queued >= this.settings.maxQueued) return { status: 'full', jobId, queued };
    await this.bounded(
      this.queue.add('remediate', JSON.parse(JSON.stringify(data)) as RemediationJobData, {
        jobId,
        attempts: this.settings.attempts,
        backoff: { type: 'exponential', delay: this.settings.backoffMs },
      }),
    );
    return { status: 'enqueued', jobId };
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
