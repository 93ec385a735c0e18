import { z } from 'zod';
import type { Verdict } from '../core/types.js';
import { describeWindow, isPercent } from './lib/format.js';
import { flooredSpread } from './lib/options.js';
import { insufficientVerdict, missingPointVerdict, zVerdict } from './lib/verdict.js';
import { emptyMeanStd, type IndexRange, meanStd, windowRange } from './lib/window.js';
import {
  baselineOf,
  type CenterSpread,
  fromMeanStd,
  hygienicEstimate,
  thresholdsOrdered,
  thresholdsOrderedIssue,
  zFamilyShape,
} from './lib/z-family.js';
import type { Detector, DetectorDefinition, EvaluatedPoint, SeriesHistory } from './types.js';

/**
 * EWMA control chart for slow drift: a metric that sinks a little every day and never jumps
 * never breaks a point z-score, but its exponentially weighted moving average (over the last
 * `span` points and the evaluated one) walks away from the baseline. The baseline (mean, σ) is
 * the `window` *before* that span, so the drift cannot hide in it, and the statistic is the
 * textbook EWMA chart's (EWMA − mean) / (σ·√(λ/(2−λ)·(1−(1−λ)^2t))).
 */
export const ewmaOptions = z
  .strictObject({
    ...zFamilyShape,
    lambda: z.number().gt(0).max(1).default(0.2),
    // Points the EWMA runs over; 0 means round(2 / lambda).
    span: z.number().int().min(0).default(0),
  })
  .refine(thresholdsOrdered, thresholdsOrderedIssue);

export type EwmaOptions = z.infer<typeof ewmaOptions>;

export const ewma: DetectorDefinition<EwmaOptions> = {
  kind: 'ewma',
  summary: 'EWMA control chart: catches slow drift that never jumps',
  options: ewmaOptions,
  create(options, deps): Detector {
    const span = options.span > 0 ? options.span : Math.round(2 / options.lambda);
    const range: IndexRange = { start: 0, end: 0, maskFrom: 0 };
    const stats = emptyMeanStd();
    const result: CenterSpread = { n: 0, skipped: 0, excluded: 0, center: 0, spread: 0 };
    const percent = isPercent(deps.metric, options.unit);
    const windowText = describeWindow(options.window);
    const needed = Math.max(2, options.min_history);
    // The baseline window ends where the EWMA span begins.
    const estimate = (history: SeriesHistory, window: IndexRange, honourMask: boolean): CenterSpread => {
      meanStd(
        history,
        window.start,
        Math.max(window.start, window.end - span),
        honourMask ? window.maskFrom : window.end,
        stats,
      );
      return fromMeanStd(stats, result);
    };

    const evaluate = (history: SeriesHistory, point: EvaluatedPoint): Verdict => {
      if (!Number.isFinite(point.value)) return missingPointVerdict('ewma', deps.metric);
      windowRange(history, point, options.window, range);
      range.start = Math.max(0, range.start - span);
      const { stats: base, note } = hygienicEstimate(estimate, history, range, needed);
      if (base.n < needed) return insufficientVerdict('ewma', deps.metric, base.n, needed, base);
      const { value, weight } = smooth(
        history.values,
        Math.max(range.start, range.end - span),
        range.end,
        base.center,
        point.value,
        options.lambda,
      );
      const spread = flooredSpread(base.spread, base.center, options);
      return zVerdict({
        detector: 'ewma',
        metric: deps.metric,
        percent,
        value: point.value,
        z: (value - base.center) / (spread * weight),
        direction: options.direction,
        warning: options.threshold,
        critical: options.critical_threshold,
        baseline: baselineOf(base, spread, windowText),
        centerName: 'mean',
        smoothed: value,
        note,
      });
    };
    return { kind: 'ewma', minHistory: options.min_history + span, evaluate };
  },
};

/**
 * The EWMA over the finite values of `[from, to)` and then `latest`, started at `start`, and the
 * factor by which its standard deviation shrinks relative to one point's after t steps.
 */
function smooth(
  values: Float64Array,
  from: number,
  to: number,
  start: number,
  latest: number,
  lambda: number,
): { value: number; weight: number } {
  let s = start;
  let t = 0;
  for (let i = from; i < to; i++) {
    const x = values[i] as number;
    if (x - x !== 0) continue;
    s = lambda * x + (1 - lambda) * s;
    t++;
  }
  s = lambda * latest + (1 - lambda) * s;
  t++;
  return { value: s, weight: Math.sqrt((lambda / (2 - lambda)) * (1 - (1 - lambda) ** (2 * t))) };
}
