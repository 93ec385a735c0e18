import { createHash } from 'node:crypto';
import type { Finding, FindingState, Sample, SeriesKey, Verdict } from '../core/types.js';
import { type CompiledBinding, evaluateBinding } from '../detectors/binding.js';
import { type HysteresisState, hysteresisStep } from '../detectors/lib/hysteresis.js';
import { DetectionCache } from '../store/detection-cache.js';
import type { StoredSeries } from '../store/history.js';
import type { SeriesReport } from './tick.js';

/**
 * Judging one series under one detector binding: every new point in order, hysteresis, and the
 * one finding (raised / ongoing / cleared) a tick hands on. Pure apart from its inputs.
 */

/** One series × binding to judge in a tick. */
export interface Evaluation {
  readonly key: SeriesKey;
  /** Index of the binding in the tick's bindings (this process's arrays). */
  readonly binding: number;
  /** The binding's stable id: Redis state and finding ids are keyed by it, not by the index. */
  readonly bindingId: string;
  readonly latest: Sample;
}

export interface EvaluationResult {
  readonly report: SeriesReport;
  readonly findings: readonly Finding[];
  /** Timestamps of the points judged anomalous in this tick (to flag in the stored history). */
  readonly flagged: readonly number[];
  readonly state: DetectionState;
  /** The hysteresis state changed, so Redis must learn it (quiet steps need not be written). */
  readonly changed: boolean;
}

/** What the tick persists per series and binding between ticks. */
export interface DetectionState {
  readonly hysteresis: HysteresisState | undefined;
  /** Timestamp of the newest point already judged: each point is judged once, in order. */
  readonly last: number | null;
}

const NO_STATE: DetectionState = { hysteresis: undefined, last: null };

/** The per-replica cache a daemon hands to its ticks (history plus parsed detection state). */
export function createDetectionCache(maxSeries: number, points: number): DetectionCache<DetectionState> {
  return new DetectionCache<DetectionState>(maxSeries, points);
}

/**
 * Judges every point newer than the last judged one, oldest first, each against the history
 * before it — so a look-back query's first run, or a tick after downtime, sees an episode from
 * its first day (the affected range a backfill needs), not only today's value. Points judged
 * anomalous join the anomaly mask at once, keeping them out of the next points' baselines.
 */
export function evaluate(
  evaluation: Evaluation,
  binding: CompiledBinding,
  history: StoredSeries | undefined,
  state: DetectionState | undefined,
): EvaluationResult {
  const { latest, key } = evaluation;
  const stored = history ?? emptySeries(key);
  // The stored mask is copied only when this tick flags a point: most ticks flag nothing.
  const series = { timestamps: stored.timestamps, values: stored.values, anomalous: stored.anomalous };
  const previous = state ?? NO_STATE;
  let hysteresis = previous.hysteresis;
  let last = previous.last;
  let verdict: Verdict | undefined;
  let judged: { timestamp: number; value: number } | undefined;
  let raisedSince: number | undefined;
  let raising: { verdict: Verdict; point: { timestamp: number; value: number } } | undefined;
  const flagged: number[] = [];
  for (let i = 0; i < stored.timestamps.length; i++) {
    const timestamp = stored.timestamps[i] as number;
    if ((last !== null && timestamp <= last) || timestamp > latest.timestamp) continue;
    const value = stored.values[i] as number;
    const point = { timestamp, value };
    verdict = evaluateBinding(binding, series, point);
    const step = hysteresisStep(hysteresis, verdict, timestamp, binding.hysteresis);
    if (step.transition === 'raised') {
      raisedSince = step.state.since ?? timestamp;
      raising = { verdict, point };
    }
    if (step.transition === 'cleared') raisedSince = undefined;
    hysteresis = step.state;
    last = timestamp;
    judged = point;
    if (verdict.anomalous) {
      if (series.anomalous === stored.anomalous) series.anomalous = Uint8Array.from(stored.anomalous);
      series.anomalous[i] = 1;
      flagged.push(timestamp);
    }
  }
  const transition = findingTransition(previous.hysteresis?.active === true, hysteresis, raisedSince);
  const findings: Finding[] = [];
  if (transition && verdict && judged) {
    // The finding describes the series now (its newest point) and the episode it belongs to. A
    // raise whose newest point is already normal again (a first start the day after a dip that
    // hysteresis still holds open) is announced with the point and severity that raised it:
    // "raised ok" tells nobody anything.
    const told =
      transition === 'raised' && !verdict.anomalous && raising ? raising : { verdict, point: judged };
    const since = hysteresis?.since ?? judged.timestamp;
    findings.push({
      id: findingId(key, evaluation.bindingId, since),
      series: key,
      metric: latest.metric,
      labels: { ...latest.labels, ...(latest.annotations ?? {}) },
      ...told.point,
      state: transition,
      since,
      verdict: told.verdict,
    });
  }
  // Nothing new (a daily series collected hourly): judge the newest point for the report only.
  verdict ??= evaluateBinding(binding, series, { timestamp: latest.timestamp, value: latest.value });
  const report: SeriesReport = {
    series: key,
    metric: latest.metric,
    labels: latest.labels,
    timestamp: latest.timestamp,
    value: latest.value,
    verdict,
    transition,
  };
  // A quiet series stays quiet with the very same hysteresis object: nothing worth persisting but
  // `last`, and re-judging those quiet points after a restart gives the same quiet verdicts.
  const changed = hysteresis !== previous.hysteresis;
  return { report, findings, flagged, state: { hysteresis, last }, changed };
}

/**
 * The one finding a tick hands on per series: raised (an episode opened in this tick and is
 * still open), ongoing (it was open before and still is) or cleared (it was open and closed).
 * Episodes that opened and closed within one tick — history seen for the first time — are
 * past, and no remediation should act on them.
 */
function findingTransition(
  wasActive: boolean,
  state: HysteresisState | undefined,
  raisedSince: number | undefined,
): FindingState | null {
  const active = state?.active === true;
  if (active) return raisedSince !== undefined ? 'raised' : 'ongoing';
  return wasActive ? 'cleared' : null;
}

function emptySeries(key: SeriesKey): StoredSeries {
  return { key, timestamps: new Float64Array(), values: new Float64Array(), anomalous: new Uint8Array() };
}

/** The Redis hash field holding a series' detection state under one binding. */
export function stateField(series: SeriesKey, binding: string): string {
  return `${series}#${binding}`;
}

/** One id for a whole episode (raised → ongoing → cleared), to follow one story in logs and audit. */
export function findingId(series: SeriesKey, binding: string, since: number): string {
  return `f-${createHash('sha256').update(`${series}|${binding}|${since}`).digest('hex').slice(0, 16)}`;
}

export function parseState(raw: string | undefined): DetectionState {
  if (!raw) return { hysteresis: undefined, last: null };
  try {
    const parsed = JSON.parse(raw) as Partial<DetectionState>;
    return { hysteresis: parsed.hysteresis, last: typeof parsed.last === 'number' ? parsed.last : null };
  } catch {
    // A corrupt state must not wedge the series: start its hysteresis afresh.
    return { hysteresis: undefined, last: null };
  }
}
