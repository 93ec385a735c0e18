/**
 * Shared data shapes that flow between vigil's stages. Data only: no logic lives here except
 * the canonical series-key rendering, which every stage must agree on byte for byte.
 */

/** Label set of a series. Keys and values are plain strings; order never matters. */
export type Labels = Readonly<Record<string, string>>;

/** One observation. `timestamp` is epoch milliseconds; `value` is always finite. */
export interface Sample {
  readonly metric: string;
  readonly labels: Labels;
  readonly timestamp: number;
  readonly value: number;
  /**
   * Context that is not part of the series identity (e.g. the deployed and main commits of a
   * drift sample). Not stored in history; carried to the finding raised on this sample, whose
   * `labels` include them, so policy rules and remediations can use them.
   */
  readonly annotations?: Labels;
}

/** Canonical identity of a series: `metric{a="1",b="2"}` with labels sorted by name. */
export type SeriesKey = string;

/** Renders the canonical series key; labels are sorted so equal sets give equal keys. */
export function seriesKey(metric: string, labels: Labels): SeriesKey {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return metric;
  const body = names.map((name) => `${name}=${JSON.stringify(labels[name])}`).join(',');
  return `${metric}{${body}}`;
}

/** Verdict severities. `insufficient-history` is never anomalous; it says the detector could not judge. */
export type Severity = 'ok' | 'warning' | 'critical' | 'insufficient-history';

/** What a detector compared the evaluated point against. */
export interface Baseline {
  /** Mean, median or band edge, depending on the detector. */
  readonly center: number;
  /** Standard deviation, scaled MAD or band width; already floored, never 0. */
  readonly spread: number;
  /** Number of usable points the baseline was built from. */
  readonly n: number;
  /** Human description of the window, e.g. `28-day` or `last 288 points`. */
  readonly window: string;
  /** For seasonal baselines: which phase was used, or why it fell back. */
  readonly seasonalReference?: string;
  /** Missing (NaN, ±Infinity, null) points inside the window that were skipped, never averaged in. */
  readonly skipped?: number;
  /** Points inside the window left out because an earlier evaluation flagged them anomalous. */
  readonly excluded?: number;
}

/** The result of one detector evaluating one point. */
export interface Verdict {
  readonly detector: string;
  readonly anomalous: boolean;
  readonly severity: Severity;
  /** In [0, 1], monotone in the statistic's magnitude in the alerting direction. */
  readonly score: number;
  /** The statistic (z or friends); null when the detector could not compute one. */
  readonly statistic: number | null;
  readonly baseline: Baseline | null;
  /** One line a human understands without reading code. */
  readonly reason: string;
}

/** Lifecycle of a finding across evaluations (hysteresis lives in the detector stage). */
export type FindingState = 'raised' | 'ongoing' | 'cleared';

/** A verdict bound to a series and a time, with a stable id to follow one story through logs and audit. */
export interface Finding {
  readonly id: string;
  readonly series: SeriesKey;
  readonly metric: string;
  readonly labels: Labels;
  /** Timestamp (ms) of the evaluated point. */
  readonly timestamp: number;
  readonly value: number;
  readonly state: FindingState;
  /** Timestamp (ms) of the first breaching point of this episode; gives the affected range. */
  readonly since: number;
  readonly verdict: Verdict;
}

/** What the policy stage decided for a finding. */
export type DecisionAction = 'act' | 'dry-run' | 'needs-approval' | 'notify-only' | 'skip';

/** One policy gate's verdict on a decision, in evaluation order (what `vigil policy explain` prints). */
export interface GateTrailEntry {
  readonly gate: string;
  readonly result: 'pass' | 'skip' | 'dry-run' | 'needs-approval' | 'notify-only';
  readonly reason: string;
}

/** A policy decision: always carries the rule that produced it and a one-line reason. */
export interface Decision {
  readonly action: DecisionAction;
  /** Id of the matching rule, or null when no rule matched. */
  readonly ruleId: string | null;
  readonly reason: string;
  /** Remediation kind the rule asks for, when one matched. */
  readonly remediation?: string;
  /** Rendered, validated remediation parameters. */
  readonly params?: Readonly<Record<string, string>>;
  /** The remediation's target (service or job): the key of cooldowns, rate limits and the breaker. */
  readonly target?: string;
  /** Every gate that ran, in order; the last one decided. Empty when no remediation was considered. */
  readonly gates?: readonly GateTrailEntry[];
}

/** Who caused an audit event. */
export type Actor =
  | { readonly type: 'vigil'; readonly replica: string }
  | { readonly type: 'human'; readonly name: string };

/** One record of the append-only, hash-chained audit log. */
export interface AuditEntry {
  readonly seq: number;
  readonly time: number;
  readonly actor: Actor;
  readonly event: string;
  readonly findingId?: string;
  readonly plan?: unknown;
  readonly outcome?: string;
  readonly reason?: string;
  readonly prevHash: string;
  readonly hash: string;
}
