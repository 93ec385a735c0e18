import { z } from 'zod';
import { duration, formatDuration } from '../core/duration.js';
import type { Baseline, Verdict } from '../core/types.js';
import {
  CADENCE_INTERVALS,
  cadenceAnchor,
  measureCadence,
  periodCorrelation,
  type Rhythm,
} from './lib/cadence.js';
import { formatNumber, isPercent } from './lib/format.js';
import { direction, flooredSpread, minHistory, positive, spreadFloorOptions, unit } from './lib/options.js';
import { MAD_SCALE, median } from './lib/select.js';
import { insufficientVerdict, missingPointVerdict, zVerdict } from './lib/verdict.js';
import {
  appendUsable,
  emptyMeanStd,
  episodeStart,
  historyEnd,
  lowerBound,
  type MeanStd,
  meanStd,
  type WindowCounts,
} from './lib/window.js';
import { baselineOf, type CenterSpread, fromMeanStd, joinNotes } from './lib/z-family.js';
import type { Detector, DetectorDefinition, DetectorDeps, EvaluatedPoint, SeriesHistory } from './types.js';

const DAY_MS = 86_400_000;
/** The cadence the base `threshold` is stated for: hourly data, 24 points a day. */
const REFERENCE_POINTS_PER_DAY = 24;
/** Same-phase neighbours taken on each side of `t − k·period`, at most (a 1-minute series would take 60). */
const MAX_PHASE_NEIGHBOURS = 2;

/**
 * Options of `auto`. Every default was chosen by the cross-validated score of `npm run eval`
 * (docs/detectors.md, "Detection quality"); none is tuned to one series or one category.
 */
export const autoOptions = z
  .strictObject({
    /** Trailing window in time; converted to points with the measured cadence, then clamped. */
    window: duration.prefault('7d'),
    min_points: z.number().int().min(2).default(30),
    max_points: z.number().int().min(2).default(3000),
    /** Warning |z| for hourly data; scaled with the points per day (see `cadence_exponent`). */
    threshold: positive(3.3),
    /** The scaled threshold never goes below this (daily data keeps 3σ). */
    threshold_floor: positive(3),
    /**
     * Threshold × (points per day / 24)^(1 / this): an SRE budgets false alarms per day, not per
     * point, and a 1-minute series has 60 times the chances an hourly one has. 0 = fixed threshold.
     */
    cadence_exponent: z.number().min(0).default(6),
    critical_ratio: z
      .number()
      .min(1)
      .default(5 / 3),
    direction: direction.default('both'),
    min_history: minHistory(10),
    unit: unit.default('auto'),
    /** The rhythm looked for: the same time of day (`1d`), or `7d` for a weekly one. */
    period: duration.prefault('1d'),
    seasons: z.number().int().min(1).default(7),
    /** A seasonal baseline is used when the autocorrelation at `period` reaches this. */
    min_autocorrelation: z.number().min(-1).max(1).default(0.5),
    seasonal_tolerance: duration.prefault('30m'),
    min_seasonal_points: z.number().int().min(1).default(4),
    /** Few same-phase points give a noisy spread: floor it at this × the trailing σ. */
    seasonal_spread_vs_window: z.number().min(0).default(0.5),
    ...spreadFloorOptions,
  })
  .refine((options) => options.max_points >= options.min_points, {
    path: ['max_points'],
    message: 'max_points must be >= min_points',
  });

export type AutoOptions = z.infer<typeof autoOptions>;

/**
 * `auto`: the default detector, for series nobody tuned anything for. From the series' own history
 * it measures the cadence (so its window is in time: 7 days is 168 hourly or 2,016 five-minute
 * points), tests for a daily rhythm (autocorrelation at one period; a seasonal median of the same
 * time of day when there is one, the trailing mean otherwise), and scales its threshold to the
 * points per day. Its spread is the standard deviation, which unlike the MAD never collapses to
 * 0 on quantised series, floored as the z family floors it.
 */
export const auto: DetectorDefinition<AutoOptions> = {
  kind: 'auto',
  summary: 'adapts to the series: cadence-aware window and threshold, daily rhythm when measured',
  options: autoOptions,
  create(options, deps): Detector {
    return {
      kind: 'auto',
      minHistory: options.min_history,
      evaluate: autoEvaluator(options, deps, false),
      stream: () => ({
        kind: 'auto',
        minHistory: options.min_history,
        evaluate: autoEvaluator(options, deps, true),
      }),
    };
  },
};

/** What a stream remembers between points: measurements that only change at anchors. */
interface Memo {
  cadenceAnchor: number;
  cadence: number;
  rhythmKey: string;
  rhythm: Rhythm;
}

/**
 * One evaluator with its own scratch buffers. With `memo`, consecutive calls on one append-only
 * series reuse the cadence and the rhythm while their anchors have not moved; both are functions
 * of the anchors alone, so the verdicts are exactly those of a fresh evaluation.
 */
function autoEvaluator(
  options: AutoOptions,
  deps: DetectorDeps,
  memoize: boolean,
): (history: SeriesHistory, point: EvaluatedPoint) => Verdict {
  const percent = isPercent(deps.metric, options.unit);
  const intervals = new Float64Array(CADENCE_INTERVALS);
  const stats: MeanStd = emptyMeanStd();
  const phase: CenterSpread = { n: 0, skipped: 0, excluded: 0, center: 0, spread: 0 };
  const trailing: CenterSpread = { n: 0, skipped: 0, excluded: 0, center: 0, spread: 0 };
  let phaseValues: Float64Array = new Float64Array(64);
  const memo: Memo = {
    cadenceAnchor: -1,
    cadence: Number.NaN,
    rhythmKey: '',
    rhythm: { correlation: 0, pairs: 0 },
  };
  const periodText = formatDuration(options.period);

  const cadenceOf = (history: SeriesHistory, end: number): number => {
    const anchor = cadenceAnchor(end);
    if (memoize && anchor === memo.cadenceAnchor) return memo.cadence;
    const cadence = measureCadence(history.timestamps, anchor, intervals);
    memo.cadenceAnchor = anchor;
    memo.cadence = cadence;
    return cadence;
  };

  /** The rhythm of the `seasons` periods before the current period began (fixed within it). */
  const rhythmOf = (history: SeriesHistory, end: number, timestamp: number, cadence: number): Rhythm => {
    const periodStart = Math.floor(timestamp / options.period) * options.period;
    const lag = Math.round(options.period / cadence);
    const key = `${periodStart}:${lag}`;
    if (memoize && key === memo.rhythmKey) return memo.rhythm;
    const ts = history.timestamps;
    const to = lowerBound(ts, periodStart, 0, end);
    const from = lowerBound(ts, periodStart - options.seasons * options.period, 0, to);
    // A rhythm needs at least one whole period of pairs behind it.
    const rhythm =
      lag >= 1 && to - from > lag
        ? periodCorrelation(history, from, to, lag, options.period, cadence)
        : { correlation: 0, pairs: 0 };
    memo.rhythmKey = key;
    memo.rhythm = rhythm;
    return rhythm;
  };

  /** Median / scaled MAD of the same phase in the previous `seasons` periods (flagged episode left out). */
  const samePhase = (
    history: SeriesHistory,
    end: number,
    maskFrom: number,
    timestamp: number,
    cadence: number,
  ) => {
    const ts = history.timestamps;
    const counts: WindowCounts = phase;
    counts.n = 0;
    counts.skipped = 0;
    counts.excluded = 0;
    const neighbours = Math.min(MAX_PHASE_NEIGHBOURS, Math.round(options.seasonal_tolerance / cadence));
    for (let k = 1; k <= options.seasons; k++) {
      const target = timestamp - k * options.period;
      const at = lowerBound(ts, target - cadence / 2, 0, end);
      if (at >= end || Math.abs((ts[at] as number) - target) > cadence / 2) continue;
      phaseValues = appendUsable(
        history,
        Math.max(0, at - neighbours),
        Math.min(end, at + neighbours + 1),
        maskFrom,
        phaseValues,
        counts,
      );
    }
    const n = phase.n;
    phase.center = median(phaseValues, n);
    for (let i = 0; i < n; i++) phaseValues[i] = Math.abs((phaseValues[i] as number) - phase.center);
    phase.spread = n > 1 ? median(phaseValues, n) * MAD_SCALE : 0;
    return phase;
  };

  return (history, point) => {
    if (!Number.isFinite(point.value)) return missingPointVerdict('auto', deps.metric);
    const end = historyEnd(history, point);
    const cadence = end >= 2 ? cadenceOf(history, end) : Number.NaN;
    if (!(cadence > 0))
      return insufficientVerdict('auto', deps.metric, end, 2, { skipped: 0, excluded: 0 }, 'timestamps');
    const pointsPerDay = DAY_MS / cadence;
    const warning =
      options.cadence_exponent > 0
        ? Math.max(
            options.threshold_floor,
            options.threshold * (pointsPerDay / REFERENCE_POINTS_PER_DAY) ** (1 / options.cadence_exponent),
          )
        : options.threshold;
    const points = Math.max(
      options.min_points,
      Math.min(options.max_points, Math.round(options.window / cadence)),
    );
    const start = Math.max(0, end - points);
    const needed = Math.max(1, options.min_history);
    let maskFrom = episodeStart(history, end);
    meanStd(history, start, end, maskFrom, stats);
    let note: string | undefined;
    if (stats.n < needed && stats.excluded > 0) {
      // Hygiene gives way when the episode fills the window: by now it is the normal level.
      note = `${stats.excluded} flagged points readmitted: the anomaly has lasted most of the window`;
      maskFrom = end;
      meanStd(history, start, end, end, stats);
    }
    if (stats.n < needed) return insufficientVerdict('auto', deps.metric, stats.n, needed, stats);
    const trailingSpread = flooredSpread(stats.std, stats.mean, options);
    const cadenceText = `${formatDuration(Math.round(cadence))} cadence`;
    const thresholdText = `alerts at ${formatNumber(warning)}σ for ${cadenceText}`;
    const judged = (baseline: Baseline, centerName: string, clause: string | undefined) =>
      zVerdict({
        detector: 'auto',
        metric: deps.metric,
        percent,
        value: point.value,
        z: (point.value - baseline.center) / baseline.spread,
        direction: options.direction,
        warning,
        critical: warning * options.critical_ratio,
        baseline,
        centerName,
        note: joinNotes(clause, thresholdText, note),
      });
    const rhythm = rhythmOf(history, end, point.timestamp, cadence);
    if (rhythm.correlation >= options.min_autocorrelation) {
      const same = samePhase(history, end, maskFrom, point.timestamp, cadence);
      if (same.n >= options.min_seasonal_points) {
        const spread = flooredSpread(
          Math.max(same.spread, trailingSpread * options.seasonal_spread_vs_window),
          same.center,
          options,
        );
        const rhythmText = `${periodText} rhythm (autocorrelation ${rhythm.correlation.toFixed(2)})`;
        const window = `${options.seasons} × ${periodText} same-phase`;
        return judged(baselineOf(same, spread, window, rhythmText), 'median', rhythmText);
      }
    }
    const window =
      stats.n < points ? `${stats.n}-point` : `${formatDuration(options.window)} (${points}-point)`;
    return judged(baselineOf(fromMeanStd(stats, trailing), trailingSpread, window), 'mean', undefined);
  };
}
