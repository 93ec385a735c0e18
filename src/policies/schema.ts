import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { duration } from '../core/duration.js';
import { remediationRegistry } from '../remediations/index.js';
import { patternString, resourceName } from '../remediations/types.js';
import { parseMatcher } from './matchers.js';

/**
 * The policy file, validated strictly at every level (zod strictness does not recurse, so every
 * object is a strictObject). Defaults live here and nowhere else. The JSON Schema that editors
 * use is generated from this file (`vigil policy schema`).
 */

const MODES = ['auto', 'dry-run', 'notify-only', 'off'] as const;
export const Mode = z.enum(MODES).describe('auto | dry-run | notify-only | off (off is the kill switch)');
export type Mode = z.output<typeof Mode>;

const kinds = remediationRegistry.kinds as [string, ...string[]];
const RemediationKind = z.enum(kinds).describe('A remediation kind known to vigil');

const Identifier = patternString(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a kebab-case id like redeploy-drifted');
const MetricName = patternString(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'a metric name like vegas_line_coverage');
const Person = z.string().min(1).describe('Who wrote this entry (a name or e-mail), shown in every decision');
const Reason = z.string().min(1).describe('Why; shown in every decision it causes');
const Count = z.int().min(0);

/** RFC 3339 time with an explicit offset (`2026-02-05T18:00:00Z`), as epoch milliseconds. */
const Timestamp = z.iso
  .datetime({ offset: true })
  .transform((text) => Date.parse(text))
  .describe('RFC 3339 time with an offset, e.g. 2026-02-05T18:00:00Z');

const Matcher = z
  .string()
  .transform((text, ctx) => {
    const parsed = parseMatcher(text);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  })
  .describe('A label matcher: name=value, name!=value, name=~regex or name!~regex');

const Breaker = z
  .strictObject({
    error_threshold_percentage: z.int().min(1).max(100).default(50),
    volume_threshold: z.int().min(1).default(3).describe('Calls in the window before the breaker may open'),
    reset_timeout: duration.prefault('10m').describe('How long the breaker stays open before one trial'),
    timeout: duration.prefault('10m').describe('A remediation running longer than this counts as failed'),
  })
  .describe('Circuit breaker per remediation kind and target (used by the remediation worker)');

const PerTargetAndGlobal = (target: number, global: number) =>
  z.strictObject({
    target: Count.default(target).describe('Per target (service or job)'),
    global: Count.default(global).describe('Across all targets of this kind'),
  });

/** `50%` → 0.5: the share of the distance to the baseline a series must win back. */
const Share = patternString(/^(?:100|[1-9]?[0-9])(?:\.[0-9]+)?%$/, 'a percentage like 50%').transform(
  (text) => Number(text.slice(0, -1)) / 100,
);

const Recovery = z
  .strictObject({
    within: duration
      .optional()
      .describe(
        'How long after the change to keep checking the triggering series (default 2 × verify_after)',
      ),
    improved_by: Share.optional().describe(
      'Counts as recovered once the series won back this share of its distance to the baseline; without it, the series must be back inside its band',
    ),
  })
  .describe('What "the remediation worked" means: judged on the series that triggered it, re-collected');

export const RemediationSettings = z.strictObject({
  mode: Mode.default('dry-run'),
  cooldown: duration.prefault('1h').describe('Minimum time between two runs on the same target'),
  max_per_hour: PerTargetAndGlobal(1, 5).prefault({}),
  max_per_day: PerTargetAndGlobal(3, 20).prefault({}),
  max_concurrent: z.int().min(1).default(1).describe('Runs of this kind at once (enforced by the worker)'),
  max_consecutive_failures: z
    .int()
    .min(1)
    .default(3)
    .describe('After this many failures in a row on a target, stop and escalate to a human'),
  requires_approval: z.boolean().default(false).describe('Ask a human (vigil approve) before acting'),
  breaker: Breaker.prefault({}),
  recovery: Recovery.prefault({}),
  hold_for: duration
    .prefault('24h')
    .describe('How long an automatic hold (ineffective, or max_consecutive_failures reached) lasts'),
});
export type RemediationSettings = z.output<typeof RemediationSettings>;

/** The settings of a kind the policy file does not list: the schema's defaults, the only copy of them. */
export const DEFAULT_REMEDIATION_SETTINGS: RemediationSettings = Object.freeze(RemediationSettings.parse({}));

const Remediations = z
  .strictObject(Object.fromEntries(kinds.map((kind) => [kind, RemediationSettings.optional()])))
  .describe('Settings per remediation kind; a kind not listed gets every default (mode dry-run)');

const Rule = z.strictObject({
  id: Identifier.describe('Unique rule id, shown in every decision'),
  description: z.string().optional(),
  match: z.strictObject({
    metric: MetricName.describe('Metric name of the finding (must be produced by a detector in the config)'),
    labels: z.array(Matcher).default([]),
    severity: z
      .array(z.enum(['warning', 'critical']))
      .min(1)
      .optional(),
    detector: z.array(Identifier).min(1).optional().describe('Detector kinds, e.g. [threshold, zscore]'),
    state: z
      .array(z.enum(['raised', 'ongoing']))
      .min(1)
      .default(['raised', 'ongoing']),
    min_duration: duration.prefault('0s').describe('The finding must have lasted at least this long'),
  }),
  action: z.strictObject({
    kind: RemediationKind,
    params: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        'Params; values may use {{labels.X}}, {{metric}}, {{value}}, {{range.start_date}}, {{range.end_date}}',
      ),
  }),
  mode: Mode.optional().describe('Caps this rule below the remediation mode (e.g. dry-run)'),
  continue: z.boolean().default(false).describe('Keep matching later rules after this one matched'),
});

const OVERRIDE_EFFECTS = ['off', 'dry-run', 'requires-approval', 'notify-only'] as const;
export type OverrideEffect = (typeof OVERRIDE_EFFECTS)[number];

const Override = z
  .strictObject({
    id: Identifier,
    match: z
      .strictObject({
        remediation: RemediationKind.optional(),
        target: z.string().min(1).optional().describe('A service or job name'),
        labels: z.array(Matcher).default([]),
      })
      .prefault({})
      .describe('Selector; an empty selector matches every remediation'),
    effect: z.enum(OVERRIDE_EFFECTS),
    starts_at: Timestamp.optional().describe('Defaults to: active as soon as it is loaded'),
    ends_at: Timestamp.describe('Required: every override expires'),
    created_by: Person,
    reason: Reason,
  })
  .superRefine((override, ctx) => {
    if (override.starts_at !== undefined && override.ends_at <= override.starts_at) {
      ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'expected ends_at after starts_at' });
    }
  });

const MaintenanceWindow = z
  .strictObject({
    name: Identifier,
    cron: z.string().min(1).describe('When the window opens, e.g. "0 2 * * *"'),
    duration: duration.refine((ms) => ms > 0, 'expected a duration above 0s'),
    timezone: z.string().default('UTC').describe('IANA time zone of the cron, e.g. America/Los_Angeles'),
    remediations: z.array(RemediationKind).min(1).optional().describe('Defaults to every remediation'),
  })
  .superRefine((window, ctx) => {
    if (!isTimeZone(window.timezone)) {
      ctx.addIssue({
        code: 'custom',
        path: ['timezone'],
        message: `expected an IANA time zone like UTC or America/New_York, got ${JSON.stringify(window.timezone)}`,
      });
      return;
    }
    const problem = cronProblem(window.cron, window.timezone);
    if (problem) ctx.addIssue({ code: 'custom', path: ['cron'], message: problem });
  });

const DoNotDeploy = z.strictObject({
  service: resourceName,
  commit: patternString(/^[0-9a-f]{7,40}$/, 'a git commit sha (7 to 40 lowercase hex digits)'),
  created_by: Person,
  reason: Reason,
});

export const PolicyFile = z.strictObject({
  mode: Mode.describe('Global mode; set to off to pause vigil'),
  remediations: Remediations.prefault({}),
  rules: z.array(Rule).default([]).describe('Evaluated in order; the first match wins unless continue: true'),
  overrides: z.array(Override).default([]).describe('Temporary, owned, expiring exceptions (like silences)'),
  maintenance_windows: z.array(MaintenanceWindow).default([]),
  do_not_deploy: z
    .array(DoNotDeploy)
    .default([])
    .describe('Commits a redeploy must never roll a service to (a human rolled them back)'),
});
export type PolicyFile = z.output<typeof PolicyFile>;
export type Rule = PolicyFile['rules'][number];
export type Override = PolicyFile['overrides'][number];
export type MaintenanceWindow = PolicyFile['maintenance_windows'][number];
export type DoNotDeploy = PolicyFile['do_not_deploy'][number];

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function cronProblem(expression: string, timezone: string): string | undefined {
  try {
    CronExpressionParser.parse(expression, { tz: timezone, currentDate: 0 }).next();
    return undefined;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return `expected a cron expression like "0 2 * * *", got ${JSON.stringify(expression)} (${detail})`;
  }
}

/** The JSON Schema of the policy file, for editors (yaml-language-server) and `vigil policy schema`. */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicyFile, { io: 'input', unrepresentable: 'any' });
  return {
    ...schema,
    title: 'vigil policy file',
    description:
      'Rules, modes, overrides, maintenance windows and deploy freezes for vigil. See docs/policy.md.',
  };
}
