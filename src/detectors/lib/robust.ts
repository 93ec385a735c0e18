import { MAD_SCALE, median, robustSpread } from './select.js';
import { SlidingSortedValues, sortedMedian, sortedMedianAbsDeviation } from './sorted-values.js';
import { gatherUsable } from './window.js';
import type { CenterSpread, Estimator } from './z-family.js';

/**
 * Median and scaled MAD estimators over a trailing window, shared by robust-zscore and the
 * seasonal kind's trailing window.
 */

/** Median and scaled MAD by selection over a copy of the window's usable values. */
export function robustEstimator(result: CenterSpread, capacity = 64): Estimator {
  let scratch: Float64Array = new Float64Array(capacity);
  return (history, window, honourMask) => {
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
}

/**
 * The same estimate for consecutive points of one series: the usable window values stay sorted
 * between calls. Flagged points are only ever the trailing episode `[maskFrom, end)`, so the
 * usable values are the finite ones of `[start, cut)` and every finite value after `cut` is an
 * excluded one. Without the mask (readmission), and when the MAD is 0 (the mean absolute
 * deviation fallback sums in selection order), it defers to `exact`, which writes `result` too.
 */
export function slidingRobustEstimator(exact: Estimator, result: CenterSpread): Estimator {
  const window = new SlidingSortedValues();
  const froms = [0];
  const tos = [0];
  return (history, range, honourMask) => {
    if (!honourMask) return exact(history, range, honourMask);
    const cut = Math.min(range.end, Math.max(range.start, range.maskFrom));
    froms[0] = range.start;
    tos[0] = cut;
    window.cover(history.values, froms, tos);
    let skipped = window.skipped;
    let excluded = 0;
    for (let i = cut; i < range.end; i++) {
      const x = history.values[i] as number;
      if (x - x !== 0) skipped++;
      else excluded++;
    }
    const n = window.n;
    const center = sortedMedian(window.sorted, n);
    const mad = n > 1 ? sortedMedianAbsDeviation(window.sorted, n, center) * MAD_SCALE : 0;
    if (n > 1 && !(mad > 0)) return exact(history, range, honourMask);
    result.n = n;
    result.skipped = skipped;
    result.excluded = excluded;
    result.center = center;
    result.spread = mad;
    return result;
  };
}
