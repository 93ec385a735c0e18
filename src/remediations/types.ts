import { z } from 'zod';
import { PermanentError } from '../core/errors.js';
import type { Finding } from '../core/types.js';
import type { CloudRunAdapter } from '../platform/cloud-run.js';

/** How much damage a remediation can do if it is wrong; shown in approvals and the docs. */
export type Risk = 'low' | 'medium' | 'high';

/**
 * Exactly what a remediation will do, decided before anything runs: shown in dry-runs and
 * approvals, written to the audit log, and the basis of the queue's job id. Plain data.
 */
export interface RemediationPlan {
  readonly kind: string;
  /** The key shared by dedup, cooldowns, rate limits and the breaker. */
  readonly target: string;
  /** One line a human reads in Slack or an approval prompt. */
  readonly description: string;
}

/** What the platform calls need besides the plan. */
export interface RemediationContext {
  readonly cloudRun: CloudRunAdapter;
  /** Aborts the platform calls (shutdown, the worker's deadline). */
  readonly signal?: AbortSignal;
  /** Per platform call. */
  readonly timeoutMs: number;
}

/**
 * `changed`: this call changed the platform (`ref` names the new revision or execution).
 * `already-satisfied`: the platform was already as planned, nothing was done — so running a plan
 * twice (a retried or re-delivered job) acts once.
 */
export type ExecuteOutcome =
  | { readonly status: 'changed'; readonly detail: string; readonly ref: string }
  | { readonly status: 'already-satisfied'; readonly detail: string };

/**
 * Whether the planned change is in effect: `recovered` (it is), `not-yet` (still rolling out or
 * running), `failed` (it did not take). Whether the metric itself recovered is judged from its series.
 */
export interface VerifyOutcome {
  readonly status: 'recovered' | 'not-yet' | 'failed';
  readonly detail: string;
}

/**
 * A remediation kind: what it is called, how risky it is, which parameters it takes and which
 * target it acts on (policies use these to validate rules), and the executing half: a pure `plan`,
 * an idempotent `execute` that reads the current state first, and `verify`.
 * Params are always strings because they come from YAML literals or rendered templates.
 * Platform failures throw TransientError (retry) or PermanentError (give up); a finding that cannot
 * be planned exactly throws PermanentError with code `plan-impossible`.
 */
export interface RemediationDefinition<
  Params extends Record<string, string> = Record<string, string>,
  Plan extends RemediationPlan = RemediationPlan,
> {
  /** kebab-case, equal to the file name. */
  readonly kind: string;
  /** One line, shown by `--help`, in approvals and in the generated docs. */
  readonly summary: string;
  readonly risk: Risk;
  /** Strict schema of the params; identifiers are restricted so no value can smuggle in arguments. */
  readonly params: z.ZodType<Params, Record<string, string | undefined>>;
  /** The key shared by dedup, cooldowns, rate limits and the breaker (never contains `:`). */
  target(params: Params): string;
  /** Pure: the exact change for this finding, or a PermanentError saying what is missing. */
  plan(finding: Finding, params: Params): Plan;
  execute(plan: Plan, context: RemediationContext): Promise<ExecuteOutcome>;
  verify(plan: Plan, context: RemediationContext): Promise<VerifyOutcome>;
}

/** The error `plan` throws when the finding lacks what an exact plan needs. */
export function planImpossible(message: string): PermanentError {
  return new PermanentError(message, { code: 'plan-impossible' });
}

/**
 * A string that must match `regex`. The message names what was expected and quotes what was
 * found (zod's own regex message does neither); the JSON Schema still carries the pattern.
 */
export function patternString(regex: RegExp, expected: string) {
  return z
    .string()
    .superRefine((value, ctx) => {
      if (!regex.test(value)) {
        ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${JSON.stringify(value)}` });
      }
    })
    .meta({ pattern: regex.source });
}

/** Cloud Run service and job names: lowercase letters, digits and dashes, at most 63 characters. */
export const resourceName = patternString(
  /^[a-z][a-z0-9-]{0,62}$/,
  'a lowercase name like nba-phase4 (letters, digits, dashes)',
);

/** A GCP region such as us-west2. */
export const region = patternString(/^[a-z]+-[a-z]+[0-9]$/, 'a region like us-west2');

/** A calendar date as YYYY-MM-DD that actually exists (no 2026-02-30). */
export const isoDate = z
  .string()
  .superRefine((value, ctx) => {
    if (!isCalendarDate(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a date as YYYY-MM-DD, got ${JSON.stringify(value)}`,
      });
    }
  })
  .meta({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const parsed = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === text;
}

/** Identity helper that keeps each definition's params type while checking the shape. */
export function defineRemediation<Params extends Record<string, string>, Plan extends RemediationPlan>(
  definition: RemediationDefinition<Params, Plan>,
): RemediationDefinition<Params, Plan> {
  return definition;
}
