import type { EvaluatedPoint, SeriesHistory } from '../types.js';
import type { WindowSpec } from './options.js';

/** Half-open index range `[start, end)` of history entries. */
export interface IndexRange {
  start: number;
  end: number;
  /**
   * First index of the current anomalous episode: the trailing run of flagged points (missing
   * points do not break it). Only flagged points from here on are kept out of baselines.
   */
  maskFrom: number;
}

/**
 * Start of the trailing run of flagged points before `end` (`end` itself when the last point is
 * not flagged). Baseline hygiene excludes this run, the incident in progress, so it cannot become
 * its own baseline. Isolated flagged points further back are not excluded: leaving every past
 * spike out shrinks the spread, which flags more spikes, which shrinks it further (measured on
 * ops-dev: that feedback loop cost 10 points), and the robust kinds resist isolated spikes anyway.
 */
export function episodeStart(history: SeriesHistory, end: number): number {
  const mask = history.anomalous;
  if (mask === undefined) return end;
  const values = history.values;
  let i = end;
  while (i > 0 && (mask[i - 1] === 1 || (values[i - 1] as number) - (values[i - 1] as number) !== 0)) i--;
  // A run made only of missing points is not an episode.
  while (i < end && mask[i] !== 1) i++;
  return i;
}

/** First index whose timestamp is >= `t` (binary search; timestamps ascend). */
export function lowerBound(timestamps: Float64Array, t: number, lo: number, hi: number): number {
  let low = lo;
  let high = hi;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((timestamps[mid] as number) < t) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** End of the usable history: entries at or after the evaluated point never judge it. */
export function historyEnd(history: SeriesHistory, point: EvaluatedPoint): number {
  const ts = history.timestamps;
  let end = Math.min(ts.length, history.values.length);
  // Callers normally pass history strictly before the point; this guard is O(1) in that case.
  if (end > 0 && (ts[end - 1] as number) >= point.timestamp) end = lowerBound(ts, point.timestamp, 0, end);
  return end;
}

/** The trailing window before `point`, written into `out` (no allocation). */
export function windowRange(
  history: SeriesHistory,
  point: EvaluatedPoint,
  spec: WindowSpec,
  out: IndexRange,
): IndexRange {
  const end = historyEnd(history, point);
  out.end = end;
  out.maskFrom = episodeStart(history, end);
  out.start =
    'points' in spec
      ? Math.max(0, end - spec.points)
      : lowerBound(history.timestamps, point.timestamp - spec.ms, 0, end);
  return out;
}

/** Counts from one pass over a window: usable points and why the others were left out. */
export interface WindowCounts {
  /** Usable points (finite, and not flagged when flagged points are excluded). */
  n: number;
  /** Non-finite (missing) points skipped. */
  skipped: number;
  /** Finite points left out because an earlier evaluation flagged them anomalous. */
  excluded: number;
}

/** Mean and sample standard deviation of a window, with its counts. */
export interface MeanStd extends WindowCounts {
  mean: number;
  std: number;
}

export function emptyMeanStd(): MeanStd {
  return { n: 0, skipped: 0, excluded: 0, mean: Number.NaN, std: Number.NaN };
}

/**
 * Mean and sample standard deviation over `[start, end)`, in one tight pass with sums of
 * (x − reference), where the reference is the window's first usable value. Plain sums of squares
 * cancel catastrophically at large offsets (values near 1e9); shifting by a value from the data
 * keeps the squares small, which is the textbook "shifted data" variance. Flagged points at or
 * after `maskFrom` are left out (pass `end` to use every finite point).
 */
export function meanStd(
  history: SeriesHistory,
  start: number,
  end: number,
  maskFrom: number,
  out: MeanStd,
): MeanStd {
  const values = history.values;
  const mask = maskFrom < end ? history.anomalous : undefined;
  // Only indices from `split` on can be masked; before it, a branch-light loop.
  const split = mask === undefined ? end : Math.max(start, Math.min(end, maskFrom));
  let r = start;
  while (r < end && (values[r] as number) - (values[r] as number) !== 0) r++;
  const reference = r < end ? (values[r] as number) : 0;
  let n = 0;
  let skipped = 0;
  let excluded = 0;
  // Four independent accumulators: the adds no longer wait on each other (about 3x faster at 288).
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let q0 = 0;
  let q1 = 0;
  let q2 = 0;
  let q3 = 0;
  let i = start;
  for (; i + 3 < split; i += 4) {
    const d0 = (values[i] as number) - reference;
    const d1 = (values[i + 1] as number) - reference;
    const d2 = (values[i + 2] as number) - reference;
    const d3 = (values[i + 3] as number) - reference;
    // NaN and ±Infinity are the only values where d − d is not 0; one test covers all four.
    if (d0 - d0 + (d1 - d1) + (d2 - d2) + (d3 - d3) === 0) {
      s0 += d0;
      s1 += d1;
      s2 += d2;
      s3 += d3;
      q0 += d0 * d0;
      q1 += d1 * d1;
      q2 += d2 * d2;
      q3 += d3 * d3;
      n += 4;
      continue;
    }
    for (let j = i; j < i + 4; j++) {
      const x = values[j] as number;
      if (x - x !== 0) {
        skipped++;
        continue;
      }
      const d = x - reference;
      s0 += d;
      q0 += d * d;
      n++;
    }
  }
  for (; i < split; i++) {
    const x = values[i] as number;
    if (x - x !== 0) {
      skipped++;
      continue;
    }
    const d = x - reference;
    s0 += d;
    q0 += d * d;
    n++;
  }
  let sum = s0 + s1 + s2 + s3;
  let sumSq = q0 + q1 + q2 + q3;
  for (let i = split; i < end; i++) {
    const x = values[i] as number;
    if (x - x !== 0) skipped++;
    else if ((mask as Uint8Array)[i] === 1) excluded++;
    else {
      const d = x - reference;
      sum += d;
      sumSq += d * d;
      n++;
    }
  }
  out.n = n;
  out.skipped = skipped;
  out.excluded = excluded;
  out.mean = n > 0 ? reference + sum / n : Number.NaN;
  out.std = n > 1 ? Math.sqrt(Math.max(0, (sumSq - (sum * sum) / n) / (n - 1))) : 0;
  if (!Number.isFinite(out.mean) || !Number.isFinite(out.std))
    scaledMeanStd(values, start, end, mask, maskFrom, out);
  return out;
}

/** Overflow path (values near ±1e308): the same statistics computed on values divided by max |x|. */
function scaledMeanStd(
  values: Float64Array,
  start: number,
  end: number,
  mask: Uint8Array | undefined,
  maskFrom: number,
  out: MeanStd,
): void {
  const flagged = (i: number) => mask !== undefined && i >= maskFrom && mask[i] === 1;
  let scale = 0;
  for (let i = start; i < end; i++) {
    const x = values[i] as number;
    if (x - x === 0 && !flagged(i)) scale = Math.max(scale, Math.abs(x));
  }
  let sum = 0;
  let sumSq = 0;
  for (let i = start; i < end; i++) {
    const x = values[i] as number;
    if (x - x !== 0 || flagged(i)) continue;
    sum += x / scale;
  }
  const mean = sum / out.n;
  for (let i = start; i < end; i++) {
    const x = values[i] as number;
    if (x - x !== 0 || flagged(i)) continue;
    const d = x / scale - mean;
    sumSq += d * d;
  }
  out.mean = mean * scale;
  out.std = out.n > 1 ? Math.min(Number.MAX_VALUE, Math.sqrt(sumSq / (out.n - 1)) * scale) : 0;
}

/**
 * Copies the usable values of `[start, end)` into `buffer` (grown when needed) and returns the
 * buffer; counts go to `counts`. Used by the detectors that need order statistics.
 */
export function gatherUsable(
  history: SeriesHistory,
  start: number,
  end: number,
  maskFrom: number,
  buffer: Float64Array,
  counts: WindowCounts,
): Float64Array {
  counts.n = 0;
  counts.skipped = 0;
  counts.excluded = 0;
  return appendUsable(history, start, end, maskFrom, buffer, counts);
}

/** Like gatherUsable, but appends after the `counts.n` values already in `buffer` and adds to the counts. */
export function appendUsable(
  history: SeriesHistory,
  start: number,
  end: number,
  maskFrom: number,
  buffer: Float64Array,
  counts: WindowCounts,
): Float64Array {
  const values = history.values;
  const mask = maskFrom < end ? history.anomalous : undefined;
  let n = counts.n;
  let target = buffer;
  if (target.length < n + end - start) {
    target = new Float64Array(Math.max(n + end - start, buffer.length * 2));
    target.set(buffer.subarray(0, n));
  }
  for (let i = start; i < end; i++) {
    const x = values[i] as number;
    if (x - x !== 0) counts.skipped++;
    else if (mask !== undefined && i >= maskFrom && mask[i] === 1) counts.excluded++;
    else target[n++] = x;
  }
  counts.n = n;
  return target;
}
