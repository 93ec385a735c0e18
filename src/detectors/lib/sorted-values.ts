import type { SeriesHistory } from '../types.js';
import { lowerBound } from './window.js';

/**
 * Order statistics for a detector that judges consecutive points of one append-only series (a
 * backtest): the finite values of a few index ranges of the history, kept sorted while the ranges
 * slide forward, so each point costs a few binary searches and short moves instead of a selection
 * over the whole window (for seasonal baselines at 1-minute data, ~1,300 points a row).
 * The statistics are the same order statistics the selection finds, so verdicts are identical.
 */
export class SlidingSortedValues {
  /** Finite values of the covered ranges, ascending, in `sorted[0..n)`. */
  sorted: Float64Array;
  n = 0;
  /** Non-finite values in the covered ranges. */
  skipped = 0;
  private froms: number[] = [];
  private tos: number[] = [];

  constructor(capacity = 256) {
    this.sorted = new Float64Array(capacity);
  }

  /**
   * Makes the multiset hold the values of `source[froms[r], tos[r])` for every range r. When no
   * range moved backwards, each slides (remove what fell out, insert what came in); otherwise (or
   * when the number of ranges changed) it rebuilds. `source` must be append-only: an index keeps its value once written.
   */
  cover(source: Float64Array, froms: readonly number[], tos: readonly number[]): void {
    const count = froms.length;
    let slide = count === this.froms.length;
    for (let r = 0; slide && r < count; r++)
      slide =
        (froms[r] as number) >= (this.froms[r] as number) && (tos[r] as number) >= (this.tos[r] as number);
    if (!slide) {
      this.rebuild(source, froms, tos);
      return;
    }
    for (let r = 0; r < count; r++) {
      const from = froms[r] as number;
      const to = tos[r] as number;
      const oldTo = this.tos[r] as number;
      // What left the range (before its new start) and what entered it (after its old end),
      // paired up so that each pair moves only the values between the two.
      let out = this.froms[r] as number;
      const outEnd = Math.min(from, oldTo);
      let into = Math.max(from, oldTo);
      for (; out < outEnd && into < to; out++, into++)
        this.replace(source[out] as number, source[into] as number);
      for (; out < outEnd; out++) this.remove(source[out] as number);
      for (; into < to; into++) this.insert(source[into] as number);
      this.froms[r] = from;
      this.tos[r] = to;
    }
  }

  rebuild(source: Float64Array, froms: readonly number[], tos: readonly number[]): void {
    let size = 0;
    for (let r = 0; r < froms.length; r++) size += Math.max(0, (tos[r] as number) - (froms[r] as number));
    if (this.sorted.length < size) this.sorted = new Float64Array(Math.max(size, this.sorted.length * 2));
    const sorted = this.sorted;
    let n = 0;
    let skipped = 0;
    for (let r = 0; r < froms.length; r++) {
      for (let i = froms[r] as number; i < (tos[r] as number); i++) {
        const x = source[i] as number;
        if (x - x !== 0) skipped++;
        else sorted[n++] = x;
      }
    }
    sorted.subarray(0, n).sort();
    this.n = n;
    this.skipped = skipped;
    this.froms = [...froms];
    this.tos = [...tos];
  }

  insert(x: number): void {
    if (x - x !== 0) {
      this.skipped++;
      return;
    }
    if (this.n === this.sorted.length) {
      const grown = new Float64Array(this.sorted.length * 2);
      grown.set(this.sorted);
      this.sorted = grown;
    }
    const at = upperBound(this.sorted, x, this.n);
    this.sorted.copyWithin(at + 1, at, this.n);
    this.sorted[at] = x;
    this.n++;
  }

  /** remove(x) then insert(y), shifting only the values between their positions. */
  replace(x: number, y: number): void {
    if (x - x !== 0 || y - y !== 0) {
      this.remove(x);
      this.insert(y);
      return;
    }
    const sorted = this.sorted;
    const at = lowerBound(sorted, x, 0, this.n);
    if (y >= x) {
      const to = upperBound(sorted, y, this.n);
      sorted.copyWithin(at, at + 1, to);
      sorted[to - 1] = y;
    } else {
      const to = upperBound(sorted, y, at);
      sorted.copyWithin(to + 1, to, at);
      sorted[to] = y;
    }
  }

  remove(x: number): void {
    if (x - x !== 0) {
      this.skipped--;
      return;
    }
    const at = lowerBound(this.sorted, x, 0, this.n);
    this.sorted.copyWithin(at, at + 1, this.n);
    this.n--;
  }
}

/**
 * The sorted finite values of one series' trailing window from tick to tick, where every tick hands
 * the history over again (shifted in place by the detection cache, or freshly read) rather than
 * appending to one array. It keeps the last range's values in order; the new range is lined up with
 * them by the newest timestamp the last range had, every value they share is compared bit for bit,
 * and only what left and what came in move in the sorted array. Whatever does not line up (a
 * rewritten point, a gap, a different series) is rebuilt, so the values are always exactly those of
 * the range.
 */
export class FollowedSortedValues {
  readonly window: SlidingSortedValues;
  private last: Float64Array;
  private gone = new Float64Array(4);
  private lastLength = 0;
  private lastNewest = Number.NaN;

  constructor(capacity: number) {
    this.window = new SlidingSortedValues(capacity);
    this.last = new Float64Array(capacity);
  }

  /** Makes the window hold the finite values of `history.values[from, to)`. */
  follow(history: SeriesHistory, from: number, to: number): void {
    const { timestamps, values } = history;
    const length = to - from;
    const newest = this.lastLength > 0 ? lowerBound(timestamps, this.lastNewest, from, to) : to;
    const shared = newest < to && timestamps[newest] === this.lastNewest ? newest - from + 1 : 0;
    const departed = this.lastLength - shared;
    if (shared > 0 && departed >= 0 && this.last.length >= length) {
      // The values that left are saved before the shift below overwrites them.
      if (this.gone.length < departed) this.gone = new Float64Array(departed);
      this.gone.set(this.last.subarray(0, departed));
      if (shiftIfSame(values, from, this.last, departed, shared)) {
        this.slide(values, newest + 1, to, departed);
        this.last.set(values.subarray(newest + 1, to), shared);
        this.remember(length, timestamps, to);
        return;
      }
    }
    this.window.rebuild(values, [from], [to]);
    if (this.last.length < length) this.last = new Float64Array(Math.max(length, this.last.length * 2));
    this.last.set(values.subarray(from, to));
    this.remember(length, timestamps, to);
  }

  /** Removes the `departed` saved values and inserts `values[into, to)`, pairing them up. */
  private slide(values: Float64Array, into: number, to: number, departed: number): void {
    let out = 0;
    let at = into;
    for (; out < departed && at < to; out++, at++)
      this.window.replace(this.gone[out] as number, values[at] as number);
    for (; out < departed; out++) this.window.remove(this.gone[out] as number);
    for (; at < to; at++) this.window.insert(values[at] as number);
  }

  private remember(length: number, timestamps: Float64Array, to: number): void {
    this.lastLength = length;
    this.lastNewest = length > 0 ? (timestamps[to - 1] as number) : Number.NaN;
  }
}

/**
 * Whether a[from + i] and b[at + i] are the same double for every i < count (NaN equals NaN, 0
 * differs from −0), moving b[at + i] to b[i] on the way (one pass instead of a compare and a copy).
 * On false, b is partly shifted: the caller rebuilds it.
 */
function shiftIfSame(a: Float64Array, from: number, b: Float64Array, at: number, count: number): boolean {
  for (let i = 0; i < count; i++) {
    const x = a[from + i] as number;
    const y = b[at + i] as number;
    if (x === y ? x === 0 && 1 / x !== 1 / y : !(Number.isNaN(x) && Number.isNaN(y))) return false;
    b[i] = y;
  }
  return true;
}

/** First index in `a[0..n)` whose value is > x. */
function upperBound(a: Float64Array, x: number, n: number): number {
  let low = 0;
  let high = n;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((a[mid] as number) <= x) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Median of ascending `a[0..n)`, exactly as `median` in select.ts computes it; NaN when n is 0. */
export function sortedMedian(a: Float64Array, n: number): number {
  if (n === 0) return Number.NaN;
  const upper = a[n >> 1] as number;
  if (n % 2 === 1) return upper;
  const lower = a[(n >> 1) - 1] as number;
  return lower + (upper - lower) / 2;
}

/**
 * Median of |a[i] − center| over ascending `a[0..n)` (n >= 1), the value `median` in select.ts
 * gives for the same distances, in O(log n): the distances are two ascending sequences (center
 * minus the values below it, read leftwards; the values from it on minus center), and each order
 * statistic is found by a binary search over how many come from the first.
 */
export function sortedMedianAbsDeviation(a: Float64Array, n: number, center: number): number {
  const split = lowerBound(a, center, 0, n);
  const k = n >> 1;
  const upper = kthDistance(a, n, split, center, k);
  if (n % 2 === 1) return upper;
  const lower = kthDistance(a, n, split, center, k - 1);
  return lower + (upper - lower) / 2;
}

/** The k-th smallest (0-based) of {center − a[split−1−t]} ∪ {a[split+t] − center}. */
function kthDistance(a: Float64Array, n: number, split: number, center: number, k: number): number {
  const left = split;
  const right = n - split;
  // `take` = how many of the k+1 smallest come from the left sequence.
  let low = Math.max(0, k + 1 - right);
  let high = Math.min(k + 1, left);
  while (low < high) {
    const take = (low + high) >>> 1;
    const rest = k + 1 - take;
    // Left's next candidate is smaller than right's last taken one: take more from the left.
    if (center - (a[split - 1 - take] as number) < (a[split + rest - 1] as number) - center) low = take + 1;
    else high = take;
  }
  const rest = k + 1 - low;
  const fromLeft = low > 0 ? center - (a[split - low] as number) : Number.NEGATIVE_INFINITY;
  const fromRight = rest > 0 ? (a[split + rest - 1] as number) - center : Number.NEGATIVE_INFINITY;
  return Math.max(fromLeft, fromRight);
}
