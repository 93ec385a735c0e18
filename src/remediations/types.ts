import { z } from 'zod';

/** How much damage a remediation can do if it is wrong; shown in approvals and the docs. */
export type Risk = 'low' | 'medium' | 'high';

/**
 * The declarative half of a remediation kind: what it is called, how risky it is, which
 * parameters it takes and which target it acts on. Policies use it to validate `action.kind`
 * and the rendered params; the executing half (plan/execute/verify) extends this shape later.
 * Params are always strings because they come from YAML literals or rendered templates.
 */
export interface RemediationDefinition<Params extends Record<string, string> = Record<string, string>> {
  /** kebab-case, equal to the file name. */
  readonly kind: string;
  /** One line, shown by `--help`, in approvals and in the generated docs. */
  readonly summary: string;
  readonly risk: Risk;
  /** Strict schema of the params; identifiers are restricted so no value can smuggle in arguments. */
  readonly params: z.ZodType<Params, Record<string, string | undefined>>;
  /** The key shared by dedup, cooldowns, rate limits and the breaker (never contains `:`). */
  target(params: Params): string;
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
export function defineRemediation<Params extends Record<string, string>>(
  definition: RemediationDefinition<Params>,
): RemediationDefinition<Params> {
  return definition;
}
