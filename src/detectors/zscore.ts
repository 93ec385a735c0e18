import { describeWindow, isPercent } from './lib/format.js';
import { emptyMeanStd, type IndexRange, meanStd, windowRange } from './lib/window.js';
import {
  type CenterSpread,
  fromMeanStd,
  judgeWindow,
  type ZFamilyContext,
  type ZFamilyOptions,
  zFamilyOptions,
} from './lib/z-family.js';
import type { Detector, DetectorDefinition, EvaluatedPoint, SeriesHistory } from './types.js';

/**
 * Classic z-score: (x − mean) / σ over a trailing window that excludes the evaluated point.
 * Cheap and easy to explain; use it on roughly normal metrics without strong seasonality.
 * One tight pass over typed arrays per evaluation, no allocation besides the verdict.
 */
export const zscore: DetectorDefinition<ZFamilyOptions> = {
  kind: 'zscore',
  summary: 'z-score against the mean and standard deviation of a trailing window',
  options: zFamilyOptions,
  create(options, deps): Detector {
    const range: IndexRange = { start: 0, end: 0, maskFrom: 0 };
    const stats = emptyMeanStd();
    const result: CenterSpread = { n: 0, skipped: 0, excluded: 0, center: 0, spread: 0 };
    const estimate = (history: SeriesHistory, window: IndexRange, honourMask: boolean): CenterSpread => {
      meanStd(history, window.start, window.end, honourMask ? window.maskFrom : window.end, stats);
      return fromMeanStd(stats, result);
    };
    const context: ZFamilyContext = {
      kind: 'zscore',
      metric: deps.metric,
      centerName: 'mean',
      options,
      range,
      estimate,
      windowText: describeWindow(options.window),
      percent: isPercent(deps.metric, options.unit),
    };
    return {
      kind: 'zscore',
      minHistory: options.min_history,
      evaluate(history: SeriesHistory, point: EvaluatedPoint) {
        windowRange(history, point, options.window, range);
        return judgeWindow(history, point, context);
      },
    };
  },
};
