import { z } from 'zod';
import { duration, formatDuration } from '../core/duration.js';
import { describeWindow } from './lib/format.js';
import { positive } from './lib/options.js';
import { median, robustSpread } from './lib/select.js';
import { appendUsable, gatherUsable, type IndexRange, lowerBound, windowRange } from './lib/window.js';
import {
  type CenterSpread,
  judgeWindow,
  thresholdsOrdered,
  thresholdsOrderedIssue,
  zFamilyShape,
} from './lib/z-family.js';
import type { Detector, DetectorDefinition, EvaluatedPoint, SeriesHistory } from './types.js';

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
    const range: IndexRange = { start: 0, end: 0, maskFrom: 0 };
    const result: CenterSpread = { n: 0, skipped: 0, excluded: 0, center: 0, spread: 0 };
    const seasonalOptions = { ...options, min_history: options.min_seasonal_points };
    const phaseText = `same phase of the previous ${options.seasons} × ${formatDuration(options.period)}`;
    const windowText = `${formatDuration(options.period)}-seasonal`;
    let scratch: Float64Array = new Float64Array(256);
    let windowSpread = 0;
    let phaseTime = 0;

    const trailing = (history: SeriesHistory, window: IndexRange, honourMask: boolean): CenterSpread => {
      scratch = gatherUsable(
        history,
        window.start,
        window.end,
        honourMask ? window.maskFrom : window.end,
        scratch,
        result,
      );
      result.center = median(scratch, result.n);
      result.spread = result.n > 1 ? robustSpread(scratch, result.n, result.center) : 0;
      return result;
    };
    const seasonal = (history: SeriesHistory, window: IndexRange, honourMask: boolean): CenterSpread => {
      result.n = 0;
      result.skipped = 0;
      result.excluded = 0;
      const ts = history.timestamps;
      for (let k = 1; k <= options.seasons; k++) {
        const phase = phaseTime - k * options.period;
        const from = lowerBound(ts, phase - options.tolerance, 0, window.end);
        const to = lowerBound(ts, phase + options.tolerance + 1, from, window.end);
        scratch = appendUsable(history, from, to, honourMask ? window.maskFrom : window.end, scratch, result);
      }
      result.center = median(scratch, result.n);
      const own = result.n > 1 ? robustSpread(scratch, result.n, result.center) : 0;
      result.spread = Math.max(own, windowSpread * options.min_spread_vs_window);
      return result;
    };

    return {
      kind: 'seasonal-zscore',
      minHistory: options.min_seasonal_points,
      evaluate(history: SeriesHistory, point: EvaluatedPoint) {
        windowRange(history, point, options.window, range);
        windowSpread = trailing(history, range, true).spread;
        phaseTime = point.timestamp;
        const seasonRange: IndexRange = { start: 0, end: range.end, maskFrom: range.maskFrom };
        if (seasonal(history, seasonRange, true).n >= options.min_seasonal_points) {
          return judgeWindow(history, point, {
            kind: 'seasonal-zscore',
            metric: deps.metric,
            centerName: 'median',
            options: seasonalOptions,
            range: seasonRange,
            estimate: seasonal,
            seasonalReference: phaseText,
            windowText,
          });
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
      },
    };
  },
};
