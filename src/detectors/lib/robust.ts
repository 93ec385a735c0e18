import type { SeriesHistory } from '../types.js';
import { MAD_SCALE, median, robustSpread } from './select.js';
import {
  FollowedSortedValues,
  SlidingSortedValues,
  sortedMedian,
  sortedMedianAbsDeviation,
} from './sorted-values.js';
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
  return sortedRobustEstimator(exact, result, (history, from, to) => {
    froms[0] = from;
    tos[0] = to;
    window.cover(history.values, froms, tos);
    return window;
  });
}

/**
 * The same estimate for the tick, where one detector judges many series once per tick: each
 * series' window stays sorted from one tick to the next (FollowedSortedValues), keyed by the
 * history's values array — the detection cache shifts that array in place tick after tick, and
 * drops it (and with it this state) when it evicts the series. A values array seen for the first
 * time is judged by `exact` only: a series read afresh from Redis every tick never pays for a
 * sort it cannot reuse. Costs two windows of doubles per followed series.
 */
export function followingRobustEstimator(
  exact: Estimator,
  result: CenterSpread,
  capacity: number,
): Estimator {
  const followed = new WeakMap<Float64Array, FollowedSortedValues | null>();
  return sortedRobustEstimator(exact, result, (history, from, to) => {
    const known = followed.get(history.values);
    if (known === undefined) {
      followed.set(history.values, null);
      return undefined;
    }
    const values = known ?? new FollowedSortedValues(capacity);
    if (known === null) followed.set(history.values, values);
    values.follow(history, from, to);
    return values.window;
  });
}

/** The usable values of `[from, to)` sorted, or undefined to let `exact` decide. */
type SortedWindowOf = (history: SeriesHistory, from: number, to: number) => SlidingSortedValues | undefined;

function sortedRobustEstimator(exact: Estimator, result: CenterSpread, windowOf: SortedWindowOf): Estimator {
  return (history, range, honourMask) => {
    if (!honourMask) return exact(history, range, honourMask);
    const cut = Math.min(range.end, Math.max(range.start, range.maskFrom));
    const window = windowOf(history, range.start, cut);
    if (window === undefined) return exact(history, range, honourMask);
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
