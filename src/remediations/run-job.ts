import { z } from 'zod';
import { isVigilError } from '../core/errors.js';
import type { RunExecution } from '../platform/run-types.js';
import {
  defineRemediation,
  isCalendarDate,
  isoDate,
  type RemediationContext,
  type RemediationPlan,
  resourceName,
} from './types.js';

export interface RunJobPlan extends RemediationPlan {
  readonly kind: 'run-job';
  readonly job: string;
  /** The container args of the execution, exactly. */
  readonly args: readonly string[];
  /** Start of the finding's episode: an execution of the same args created since satisfies the plan. */
  readonly after: number;
}

/** Runs a Cloud Run job over a date range, e.g. the grading backfill for the affected days. */
export const runJob = defineRemediation({
  kind: 'run-job',
  summary: 'Run a Cloud Run job (such as a backfill) for a date range',
  risk: 'low',
  params: z
    .strictObject({ job: resourceName, start_date: isoDate, end_date: isoDate })
    // ISO dates compare correctly as strings; invalid dates are already reported on their own.
    .refine(
      (p) => !isCalendarDate(p.start_date) || !isCalendarDate(p.end_date) || p.end_date >= p.start_date,
      {
        message: 'expected end_date on or after start_date',
        path: ['end_date'],
      },
    ),
  target: (params) => params.job,
  plan(finding, params): RunJobPlan {
    // The seed's backfill script takes exactly these flags (grading backfill, --start-date/--end-date).
    const args = ['--start-date', params.start_date, '--end-date', params.end_date];
    return {
      kind: 'run-job',
      target: params.job,
      job: params.job,
      args,
      after: finding.since,
      description: `run ${params.job} ${args.join(' ')}`,
    };
  },
  async execute(plan, context) {
    const previous = await matchingExecution(plan, context);
    if (previous && previous.status !== 'failed') {
      return {
        status: 'already-satisfied',
        detail: `${plan.job} execution ${previous.name} with the same args is ${previous.status}`,
      };
    }
    let execution: RunExecution;
    try {
      execution = await context.cloudRun.runJob(plan.job, plan.args, {
        signal: context.signal,
        timeoutMs: context.timeoutMs,
      });
    } catch (error) {
      if (!isVigilError(error) || error.code !== 'gcp-timeout') throw error;
      // A timed-out call may still land. Before a retry may run the job again, watch for the
      // execution it would start: fenced for one more call timeout after it gave up.
      const landed = await awaitLanding(plan, context);
      if (!landed) throw error;
      return {
        status: 'changed',
        detail: `${plan.job} execution ${landed.name} started (by the call that timed out)`,
        ref: landed.name,
      };
    }
    return {
      status: 'changed',
      detail: `${plan.job} execution ${execution.name} started`,
      ref: execution.name,
    };
  },
  async verify(plan, context) {
    const execution = await matchingExecution(plan, context);
    if (!execution)
      return { status: 'failed', detail: `${plan.job} has no execution of ${plan.args.join(' ')}` };
    if (execution.status === 'running')
      return { status: 'not-yet', detail: `${plan.job} execution ${execution.name} is running` };
    if (execution.status === 'failed') {
      return {
        status: 'failed',
        detail: `${plan.job} execution ${execution.name} failed: ${execution.message ?? 'no message'}`,
      };
    }
    return { status: 'recovered', detail: `${plan.job} execution ${execution.name} succeeded` };
  },
});

/** Polls for the execution of `plan` for one call timeout; undefined when none appeared. */
async function awaitLanding(
  plan: RunJobPlan,
  context: RemediationContext,
): Promise<RunExecution | undefined> {
  const deadline = Date.now() + context.timeoutMs;
  while (Date.now() < deadline && !context.signal?.aborted) {
    const execution = await matchingExecution(plan, context).catch(() => undefined);
    if (execution) return execution;
    await new Promise((resolve) => setTimeout(resolve, Math.min(LANDING_POLL_MS, context.timeoutMs)));
  }
  return undefined;
}

const LANDING_POLL_MS = 250;

/**
 * The job's latest execution when it ran these args since the evidence (a retried or re-delivered
 * job finds the execution its first attempt started).
 */
async function matchingExecution(
  plan: RunJobPlan,
  context: RemediationContext,
): Promise<RunExecution | undefined> {
  const options = { signal: context.signal, timeoutMs: context.timeoutMs };
  const job = await context.cloudRun.getJob(plan.job, options);
  if (!job.latestExecution) return undefined;
  const execution = await context.cloudRun.getExecution(plan.job, job.latestExecution, options);
  const sameArgs =
    execution.args.length === plan.args.length && execution.args.every((arg, i) => arg === plan.args[i]);
  return sameArgs && (execution.createTime ?? 0) >= plan.after ? execution : undefined;
}
