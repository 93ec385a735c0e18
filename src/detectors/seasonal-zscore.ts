import { z } from 'zod';
import { duration, formatDuration } from '../core/duration.js';
import type { Verdict } from '../core/types.js';
import { describeWindow } from './lib/format.js';
import { positive } from './lib/options.js';
import { robustEstimator, slidingRobustEstimator } from './lib/robust.js';
import { MAD_SCALE, median, robustSpread } from './lib/select.js';
import { SlidingSortedValues, sortedMedian, sortedMedianAbsDeviation } from './lib/sorted-values.js';
import { appendUsable, type IndexRange, lowerBound, windowRange } from './lib/window.js';
import {
  type CenterSpread,
  type Estimator,
  judgeWindow,
  thresholdsOrdered,
  thresholdsOrderedIssue,
  type ZFamilyContext,
  zFamilyShape,
} from './lib/z-family.js';
import type { Detector, DetectorDefinition, DetectorDeps, EvaluatedPoint, SeriesHistory } from './types.js';

/**
 * Seasonal robust z-score: the baseline is the median / scaled MAD of the same phase in earlier
 * periods (with `period: 1d`, the same time of day on the previous `seasons` days; with `7d`, the
 * same weekday). Use it for metrics with a daily or weekly rhythm (traffic, "no games on Mondays").
 * With fewer than `min_seasonal_points` same-phase points it falls back to the trailing `window`
 * and says so in the reason.
 */
export const seasonalZscoreOptions = z
  .strictObject({
    ...zFamilyShape,
    period: duration.prefault('1d'),
    seasons: z.number().int().min(1).default(7),
    tolerance: duration.prefault('90m'),
    min_seasonal_points: z.number().int().min(1).default(4),
    // Same-phase points are few, so their own spread is noisy; flooring it at this fraction of the
    // trailing window's spread keeps one quiet week from turning ordinary noise into many σ.
    min_spread_vs_window: positive(1),
  })
  .refine(thresholdsOrdered, thresholdsOrderedIssue);

export type SeasonalZscoreOptions = z.infer<typeof seasonalZscoreOptions>;

export const seasonalZscore: DetectorDefinition<SeasonalZscoreOptions> = {
  kind: 'seasonal-zscore',
  summary: 'robust z-score against the same phase (time of day, weekday) of earlier periods',
  options: seasonalZscoreOptions,
  create(options, deps): Detector {
    return {
      kind: 'seasonal-zscore',
      minHistory: options.min_seasonal_points,
      evaluate: seasonalEvaluator(options, deps, false),
      stream: () => ({
        kind: 'seasonal-zscore',
        minHistory: options.min_seasonal_points,
        evaluate: seasonalEvaluator(options, deps, true),
      }),
    };
  },
};

/**
 * One evaluator with its own scratch state. With `sliding`, it serves one append-only series
 * point after point (Detector.stream): the trailing window's and the same-phase values stay
 * sorted between calls, which gives the same statistics without gathering ~1,300 points a row.
 */
function seasonalEvaluator(
  options: SeasonalZscoreOptions,
  deps: DetectorDeps,
  sliding: boolean,
): (history: SeriesHistory, point: EvaluatedPoint) => Verdict {
  const range: IndexRange = { start: 0, end: 0, maskFrom: 0 };
  const seasonRange: IndexRange = { start: 0, end: 0, maskFrom: 0 };
  const result: CenterSpread = { n: 0, skipped: 0, excluded: 0, center: 0, spread: 0 };
  const seasonalOptions = { ...options, min_history: options.min_seasonal_points };
  const phaseText = `same phase of the previous ${options.seasons} × ${formatDuration(options.period)}`;
  const windowText = `${formatDuration(options.period)}-seasonal`;
  const froms: number[] = new Array(options.seasons).fill(0);
  const tos: number[] = new Array(options.seasons).fill(0);
  let scratch: Float64Array = new Float64Array(256);
  let windowSpread = 0;
  let phaseTime = 0;

  const exactTrailing = robustEstimator(result, 256);
  const trailing = sliding ? slidingRobustEstimator(exactTrailing, result) : exactTrailing;

  /**
   * Same-phase index ranges `[froms[k-1], tos[k-1])` for k = 1..seasons, before `end`. Sliding,
   * each bound walks on from where it was when that is exact (the answer lies at or after it),
   * which over a whole series costs O(1) a point instead of 2 × seasons binary searches.
   */
  const phaseRanges = (history: SeriesHistory, end: number): void => {
    const ts = history.timestamps;
    for (let k = 1; k <= options.seasons; k++) {
      const phase = phaseTime - k * options.period;
      const from = boundFrom(ts, phase - options.tolerance, 0, end, sliding ? (froms[k - 1] as number) : 0);
      froms[k - 1] = from;
      tos[k - 1] = boundFrom(
        ts,
        phase + options.tolerance + 1,
        from,
        end,
        sliding ? (tos[k - 1] as number) : from,
      );
    }
  };
  const exactSeasonal: Estimator = (history, window, honourMask) => {
    result.n = 0;
    result.skipped = 0;
    result.excluded = 0;
    phaseRanges(history, window.end);
    for (let k = 0; k < options.seasons; k++) {
      const maskFrom = honourMask ? window.maskFrom : window.end;
      scratch = appendUsable(history, froms[k] as number, tos[k] as number, maskFrom, scratch, result);
    }
    result.center = median(scratch, result.n);
    const own = result.n > 1 ? robustSpread(scratch, result.n, result.center) : 0;
    result.spread = Math.max(own, windowSpread * options.min_spread_vs_window);
    return result;
  };
  const phaseValues = new SlidingSortedValues();
  // Flagged points are only the trailing episode from maskFrom on; while no same-phase range
  // reaches it (or the mask is not honoured), none is excluded and the sorted values answer exactly.
  const slidingSeasonal: Estimator = (history, window, honourMask) => {
    phaseRanges(history, window.end);
    let reach = 0;
    for (let k = 0; k < options.seasons; k++) reach = Math.max(reach, tos[k] as number);
    if (honourMask && window.maskFrom < reach) return exactSeasonal(history, window, honourMask);
    phaseValues.cover(history.values, froms, tos);
    const n = phaseValues.n;
    const center = sortedMedian(phaseValues.sorted, n);
    const mad = n > 1 ? sortedMedianAbsDeviation(phaseValues.sorted, n, center) * MAD_SCALE : 0;
    if (n > 1 && !(mad > 0)) return exactSeasonal(history, window, honourMask);
    result.n = n;
    result.skipped = phaseValues.skipped;
    result.excluded = 0;
    result.center = center;
    result.spread = Math.max(mad, windowSpread * options.min_spread_vs_window);
    return result;
  };
  const seasonal = sliding ? slidingSeasonal : exactSeasonal;
  const seasonalContext: ZFamilyContext = {
    kind: 'seasonal-zscore',
    metric: deps.metric,
    centerName: 'median',
    options: seasonalOptions,
    range: seasonRange,
    estimate: seasonal,
    seasonalReference: phaseText,
    windowText,
  };

  return (history, point) => {
    windowRange(history, point, options.window, range);
    windowSpread = trailing(history, range, true).spread;
    phaseTime = point.timestamp;
    seasonRange.end = range.end;
    seasonRange.maskFrom = range.maskFrom;
    if (seasonal(history, seasonRange, true).n >= options.min_seasonal_points) {
      return judgeWindow(history, point, seasonalContext);
    }
    const why =
      `seasonal fallback: only ${result.n} same-phase points (need ${options.min_seasonal_points}), ` +
      `used the ${describeWindow(options.window)} window`;
    return judgeWindow(history, point, {
      kind: 'seasonal-zscore',
      metric: deps.metric,
      centerName: 'median',
      options,
      range,
      estimate: trailing,
      seasonalReference: why,
      note: why,
    });
  };
}

/**
 * lowerBound(ts, t, lo, hi), found by walking on from `hint` when the answer cannot lie before it
 * (ts[hint − 1] < t), else by binary search.
 */
function boundFrom(ts: Float64Array, t: number, lo: number, hi: number, hint: number): number {
  if (hint <= lo || hint > hi || !((ts[hint - 1] as number) < t)) return lowerBound(ts, t, lo, hi);
  let i = hint;
  // A long walk (a gap in the data) switches to binary search over what is left.
  for (let steps = 0; i < hi && (ts[i] as number) < t; i++)
    if (++steps === 16) return lowerBound(ts, t, i, hi);
  return i;
}
