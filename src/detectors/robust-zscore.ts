import { describeWindow, isPercent } from './lib/format.js';
import { robustEstimator, slidingRobustEstimator } from './lib/robust.js';
import { type IndexRange, windowRange } from './lib/window.js';
import {
  type CenterSpread,
  type Estimator,
  judgeWindow,
  type ZFamilyContext,
  type ZFamilyOptions,
  zFamilyOptions,
} from './lib/z-family.js';
import type { Detector, DetectorDefinition, DetectorDeps, EvaluatedPoint, SeriesHistory } from './types.js';

/**
 * Robust z-score: (x − median) / (1.4826 × MAD) over a trailing window. A spike, or the first
 * days of an incident, cannot drag the median or the MAD, so the anomaly does not hide itself.
 * The default choice for spiky operational metrics (latencies, error and crash rates).
 */
export const robustZscore: DetectorDefinition<ZFamilyOptions> = {
  kind: 'robust-zscore',
  summary: 'robust z-score against the median and scaled MAD of a trailing window',
  options: zFamilyOptions,
  create(options, deps): Detector {
    const range: IndexRange = { start: 0, end: 0, maskFrom: 0 };
    const result: CenterSpread = { n: 0, skipped: 0, excluded: 0, center: 0, spread: 0 };
    const estimate = robustEstimator(result, windowCapacity(options));
    const context = robustContext(options, deps, range, estimate);
    return {
      kind: 'robust-zscore',
      minHistory: options.min_history,
      evaluate(history: SeriesHistory, point: EvaluatedPoint) {
        windowRange(history, point, options.window, range);
        return judgeWindow(history, point, context);
      },
      stream() {
        const streamRange: IndexRange = { start: 0, end: 0, maskFrom: 0 };
        const streamResult: CenterSpread = { n: 0, skipped: 0, excluded: 0, center: 0, spread: 0 };
        const streamContext = robustContext(
          options,
          deps,
          streamRange,
          slidingRobustEstimator(robustEstimator(streamResult, windowCapacity(options)), streamResult),
        );
        return {
          kind: 'robust-zscore',
          minHistory: options.min_history,
          evaluate(history: SeriesHistory, point: EvaluatedPoint) {
            windowRange(history, point, options.window, streamRange);
            return judgeWindow(history, point, streamContext);
          },
        };
      },
    };
  },
};

function robustContext(
  options: ZFamilyOptions,
  deps: DetectorDeps,
  range: IndexRange,
  estimate: Estimator,
): ZFamilyContext {
  return {
    kind: 'robust-zscore',
    metric: deps.metric,
    centerName: 'median',
    options,
    range,
    estimate,
    windowText: describeWindow(options.window),
    percent: isPercent(deps.metric, options.unit),
  };
}

function windowCapacity(options: ZFamilyOptions): number {
  return 'points' in options.window ? options.window.points : 64;
}
