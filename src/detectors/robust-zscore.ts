import { describeWindow, isPercent } from './lib/format.js';
import { followingRobustEstimator, robustEstimator, slidingRobustEstimator } from './lib/robust.js';
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
    const capacity = windowCapacity(options);
    const result: CenterSpread = { n: 0, skipped: 0, excluded: 0, center: 0, spread: 0 };
    return {
      // Many series once per tick: each series' window stays sorted from tick to tick.
      ...robustDetector(
        options,
        deps,
        followingRobustEstimator(robustEstimator(result, capacity), result, capacity),
      ),
      // One series point after point (backtest): the window's values stay sorted between calls.
      stream() {
        const result: CenterSpread = { n: 0, skipped: 0, excluded: 0, center: 0, spread: 0 };
        const sliding = slidingRobustEstimator(robustEstimator(result, windowCapacity(options)), result);
        return robustDetector(options, deps, sliding);
      },
    };
  },
};

/** A robust-zscore detector over one estimator, with its own window range and context. */
function robustDetector(options: ZFamilyOptions, deps: DetectorDeps, estimate: Estimator): Detector {
  const range: IndexRange = { start: 0, end: 0, maskFrom: 0 };
  const context = robustContext(options, deps, range, estimate);
  return {
    kind: 'robust-zscore',
    minHistory: options.min_history,
    evaluate(history: SeriesHistory, point: EvaluatedPoint) {
      windowRange(history, point, options.window, range);
      return judgeWindow(history, point, context);
    },
  };
}

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
