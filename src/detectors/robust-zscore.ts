import { describeWindow, isPercent } from './lib/format.js';
import { median, robustSpread } from './lib/select.js';
import { gatherUsable, type IndexRange, windowRange } from './lib/window.js';
import {
  type CenterSpread,
  judgeWindow,
  type ZFamilyContext,
  type ZFamilyOptions,
  zFamilyOptions,
} from './lib/z-family.js';
import type { Detector, DetectorDefinition, EvaluatedPoint, SeriesHistory } from './types.js';

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
    let scratch: Float64Array = new Float64Array('points' in options.window ? options.window.points : 64);
    const estimate = (history: SeriesHistory, window: IndexRange, honourMask: boolean): CenterSpread => {
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
    const context: ZFamilyContext = {
      kind: 'robust-zscore',
      metric: deps.metric,
      centerName: 'median',
      options,
      range,
      estimate,
      windowText: describeWindow(options.window),
      percent: isPercent(deps.metric, options.unit),
    };
    return {
      kind: 'robust-zscore',
      minHistory: options.min_history,
      evaluate(history: SeriesHistory, point: EvaluatedPoint) {
        windowRange(history, point, options.window, range);
        return judgeWindow(history, point, context);
      },
    };
  },
};
