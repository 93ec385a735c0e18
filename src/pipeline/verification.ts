import { errorMessage } from '../core/errors.js';
import type { RemediationSettings } from '../policies/schema.js';
import { remediationRegistry } from '../remediations/index.js';
import type { RemediationContext, RemediationPlan } from '../remediations/types.js';
import type { Evidence, EvidenceStore } from './evidence.js';
import type { SeriesReport, TickReport } from './tick.js';

/**
 * Verification by the metric. After `verify_after`, first the platform: is the change in effect
 * (commit served, revision ready, execution succeeded)? Then the symptom: the collectors that
 * produced the series the remediation was meant to fix run again right away, through the tick's
 * own store → judge path (history and hysteresis stay consistent, the policy sees the findings),
 * and each series is judged against its detector: `verified` only when it is back inside the
 * detector's band (or, with `recovery.improved_by`, won back that share of its distance to the
 * baseline). Checks repeat every `verify_after` until `recovery.within` (default 2 ×
 * `verify_after`); what has not recovered by then is `ineffective`.
 */
export type Recollect = (collectorId: string) => Promise<TickReport>;

export interface VerificationDeps {
  readonly evidence?: EvidenceStore | undefined;
  /** Runs one collector's tick now; without it the series cannot be judged (platform check only). */
  readonly recollect?: Recollect | undefined;
  /**
   * The collectors whose series tell whether the plan's target is healthy (the http probes of a
   * redeployed service): a new revision that fails them within the window is rolled back.
   */
  readonly guards?: ((plan: RemediationPlan) => readonly string[]) | undefined;
}

export interface VerificationInput {
  readonly plan: RemediationPlan;
  /** The series of the finding the remediation job was queued for. */
  readonly trigger: Evidence;
  readonly settings: RemediationSettings;
  readonly context: RemediationContext;
  /** The last check for the series (`recovery.within` is over). */
  readonly finalForMetric: boolean;
  /** The last check at all (the platform may still be rolling out). */
  readonly final: boolean;
}

/** The verdict on one series, with what the audit entry names. */
export interface SeriesVerdict {
  readonly stage: 'verified' | 'ineffective' | 'unverified';
  readonly findingId: string;
  readonly series: string;
  readonly before: number;
  readonly after: number | null;
  readonly baseline: number | null;
  readonly detail: string;
}

export type VerificationResult =
  /** Not decided yet: check again after `verify_after`. */
  | { readonly status: 'retry'; readonly detail: string }
  /** The change is not in effect on the platform. */
  | { readonly status: 'failed'; readonly detail: string }
  /** The platform could not be read on the last check. */
  | { readonly status: 'unverified'; readonly detail: string }
  | { readonly status: 'judged'; readonly platform: string; readonly series: readonly SeriesVerdict[] }
  /** The change is in effect and its target fails its health series (a bad new revision). */
  | { readonly status: 'unhealthy'; readonly detail: string; readonly series: readonly SeriesVerdict[] };

/** Verification checks, for `within` after the change, every `verifyAfterMs`. */
export function recoveryChecks(settings: RemediationSettings, verifyAfterMs: number): number {
  const within = settings.recovery.within ?? 2 * verifyAfterMs;
  return Math.max(1, Math.ceil(within / Math.max(1, verifyAfterMs)));
}

export async function verifyRemediation(
  input: VerificationInput,
  deps: VerificationDeps,
): Promise<VerificationResult> {
  const platform = await checkPlatform(input);
  if (platform.status !== 'recovered') return platform.result;
  let covered: Evidence[];
  try {
    covered = unique([input.trigger, ...((await deps.evidence?.covered(input.plan)) ?? [])]);
  } catch (error) {
    if (!input.finalForMetric) return { status: 'retry', detail: errorMessage(error) };
    covered = [input.trigger];
  }
  const reports = await recollect(covered, deps.recollect);
  const verdicts = covered.map((entry) =>
    judge(entry, reports, input.settings, deps.recollect !== undefined),
  );
  const health = await unhealthy(input.plan, deps);
  const sick = health && 'failing' in health ? health.failing : undefined;
  const open = verdicts.filter((verdict) => verdict.stage !== 'verified');
  const waiting = health && 'unknown' in health ? health.unknown : undefined;
  if ((open.length > 0 || sick || waiting) && !input.finalForMetric) {
    const details = [
      ...open.map((verdict) => verdict.detail),
      ...(sick ? [sick] : []),
      ...(waiting ? [waiting] : []),
    ];
    return { status: 'retry', detail: details.join('; ') };
  }
  if (sick) return { status: 'unhealthy', detail: sick, series: verdicts };
  if (waiting && !input.final) return { status: 'retry', detail: waiting };
  return { status: 'judged', platform: platform.detail, series: verdicts };
}

type PlatformCheck =
  | { readonly status: 'recovered'; readonly detail: string }
  | { readonly status: 'other'; readonly result: VerificationResult };

async function checkPlatform(input: VerificationInput): Promise<PlatformCheck> {
  const definition = remediationRegistry.get(input.plan.kind);
  try {
    const outcome = await definition.verify(input.plan, input.context);
    if (outcome.status === 'recovered') return { status: 'recovered', detail: outcome.detail };
    if (outcome.status === 'not-yet' && !input.final) {
      return { status: 'other', result: { status: 'retry', detail: outcome.detail } };
    }
    return { status: 'other', result: { status: 'failed', detail: outcome.detail } };
  } catch (error) {
    if (!input.final) return { status: 'other', result: { status: 'retry', detail: errorMessage(error) } };
    // The platform could not be read: say so, and do not blame the remediation for it.
    const detail = `could not check the change (${errorMessage(error)}); look at ${input.plan.target} by hand`;
    return { status: 'other', result: { status: 'unverified', detail } };
  }
}

/** Why the plan's target fails its health series now (the guards re-collected), or undefined. */
async function unhealthy(
  plan: RemediationPlan,
  deps: VerificationDeps,
): Promise<{ readonly failing: string } | { readonly unknown: string } | undefined> {
  const collectors = deps.guards?.(plan) ?? [];
  if (collectors.length === 0 || !deps.recollect) return undefined;
  const evidence = collectors.map((collector) => ({ collector }) as Evidence);
  const reports = await recollect(evidence, deps.recollect);
  const unread = [...reports.entries()].filter(([, report]) => typeof report === 'string');
  // Health that could not be read is not health: judge again at the next check.
  if (unread.length > 0)
    return {
      unknown: `health of ${plan.target} not re-collected (${unread.map(([id, why]) => `${id}: ${why}`).join('; ')})`,
    };
  const failing = [...reports.values()].flatMap((report) =>
    typeof report === 'string'
      ? []
      : report.series.filter((row) => row.labels.service === plan.target && row.verdict?.anomalous === true),
  );
  if (failing.length === 0) return undefined;
  return {
    failing: `${plan.target} fails its health checks after the change: ${failing.map((row) => row.verdict?.reason).join('; ')}`,
  };
}

type Collected = ReadonlyMap<string, TickReport | string>;

/** Each collector involved, once: its tick report, or why it gave none. */
async function recollect(covered: readonly Evidence[], run: Recollect | undefined): Promise<Collected> {
  const reports = new Map<string, TickReport | string>();
  if (!run) return reports;
  for (const collector of new Set(covered.flatMap((entry) => (entry.collector ? [entry.collector] : [])))) {
    try {
      const report = await runUnlessBusy(run, collector);
      reports.set(collector, report.outcome === 'success' ? report : `${report.outcome}: ${report.error}`);
    } catch (error) {
      reports.set(collector, errorMessage(error));
    }
  }
  return reports;
}

/** A collector busy with its scheduled tick is tried again a few times, shortly after. */
const BUSY_RETRIES = 6;
const BUSY_WAIT_MS = 500;

async function runUnlessBusy(run: Recollect, collector: string): Promise<TickReport> {
  let report = await run(collector);
  for (let retry = 0; retry < BUSY_RETRIES && report.outcome === 'skipped'; retry++) {
    await new Promise((resolve) => setTimeout(resolve, BUSY_WAIT_MS));
    report = await run(collector);
  }
  return report;
}

function judge(
  entry: Evidence,
  reports: Collected,
  settings: RemediationSettings,
  canCollect: boolean,
): SeriesVerdict {
  const base = {
    findingId: entry.findingId,
    series: entry.series,
    before: entry.value,
    baseline: entry.baseline,
  };
  const report = entry.collector ? reports.get(entry.collector) : undefined;
  if (!entry.collector || !canCollect) {
    return {
      ...base,
      stage: 'unverified',
      after: null,
      detail: `${entry.series} was not re-collected (${entry.collector ? 'no collector runner here' : 'the collector that produced it is unknown'}); look at it by hand`,
    };
  }
  if (typeof report === 'string' || report === undefined) {
    return {
      ...base,
      stage: 'unverified',
      after: null,
      detail: `${entry.series}: collector ${entry.collector} could not be re-run (${report ?? 'no report'})`,
    };
  }
  const row = report.series.find((candidate) => candidate.series === entry.series);
  if (!row?.verdict || row.value === undefined) {
    return {
      ...base,
      stage: 'unverified',
      after: null,
      detail: `${entry.series} is missing from collector ${entry.collector}'s fresh results`,
    };
  }
  const { recovered, why } = recovery(entry, row, settings);
  const baseline = entry.baseline === null ? '' : `, baseline ${round(entry.baseline)}`;
  return {
    ...base,
    stage: recovered ? 'verified' : 'ineffective',
    after: row.value,
    detail: `${entry.series} ${round(entry.value)} → ${round(row.value)}${baseline}: ${why}`,
  };
}

function recovery(
  entry: Evidence,
  row: SeriesReport,
  settings: RemediationSettings,
): { recovered: boolean; why: string } {
  const verdict = row.verdict;
  const inBand = verdict?.anomalous === false || row.transition === 'cleared';
  if (inBand) return { recovered: true, why: `back inside its band (${verdict?.reason ?? 'cleared'})` };
  const share = settings.recovery.improved_by;
  if (share !== undefined && entry.baseline !== null && row.value !== undefined) {
    const before = Math.abs(entry.value - entry.baseline);
    const won = before === 0 ? 0 : (before - Math.abs(row.value - entry.baseline)) / before;
    const needed = `${Math.round(share * 100)}% needed`;
    if (won >= share) {
      return {
        recovered: true,
        why: `won back ${Math.round(won * 100)}% of its distance to the baseline (${needed})`,
      };
    }
    return {
      recovered: false,
      why: `won back ${Math.round(Math.max(0, won) * 100)}% of its distance to the baseline (${needed}): ${verdict?.reason}`,
    };
  }
  return { recovered: false, why: `still outside its band: ${verdict?.reason}` };
}

function unique(entries: readonly Evidence[]): Evidence[] {
  const seen = new Map<string, Evidence>();
  for (const entry of entries) if (!seen.has(entry.series)) seen.set(entry.series, entry);
  return [...seen.values()];
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
