import type { SeriesHistory } from '../types.js';
import { median } from './select.js';

/** How many of the newest intervals the cadence is the median of. */
export const CADENCE_INTERVALS = 64;

/**
 * The anchor the cadence of a history ending at `end` is measured at: `end` rounded down to a
 * multiple of CADENCE_INTERVALS (or `end` itself while the history is shorter). A stream
 * recomputes the cadence only when the anchor moves, and `evaluate` measures at the same anchor,
 * so both give the same answer.
 */
export function cadenceAnchor(end: number): number {
  return end < 2 * CADENCE_INTERVALS ? end : end - (end % CADENCE_INTERVALS);
}

/**
 * The series' cadence (ms): the median of the positive intervals between the last
 * CADENCE_INTERVALS + 1 timestamps before `anchor`. The median, so a gap or a replayed hour does
 * not move it; NaN when there is no positive interval yet. `scratch` must hold CADENCE_INTERVALS.
 */
export function measureCadence(timestamps: Float64Array, anchor: number, scratch: Float64Array): number {
  let n = 0;
  for (let i = Math.max(1, anchor - CADENCE_INTERVALS); i < anchor; i++) {
    const step = (timestamps[i] as number) - (timestamps[i - 1] as number);
    if (step > 0 && Number.isFinite(step)) scratch[n++] = step;
  }
  return n === 0 ? Number.NaN : median(scratch, n);
}

/** The autocorrelation of a history at one period, and how many point pairs it rests on. */
export interface Rhythm {
  readonly correlation: number;
  readonly pairs: number;
}

/**
 * Pearson correlation between each point and the point one `period` before it, over the points
 * in `[from, to)` (indices). Pairs are matched by index lag `lag` = period / cadence and kept only
 * when their timestamps really lie one period (± half a cadence) apart, so gaps do not pair
 * unrelated points. Missing values are skipped. Values are shifted by the first one to keep the
 * sums small (the same cancellation guard as meanStd).
 */
export function periodCorrelation(
  history: SeriesHistory,
  from: number,
  to: number,
  lag: number,
  period: number,
  cadence: number,
): Rhythm {
  const { timestamps, values } = history;
  const slack = cadence / 2;
  let n = 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  const reference = values[from] as number;
  const shift = Number.isFinite(reference) ? reference : 0;
  for (let j = from + lag; j < to; j++) {
    const gap = (timestamps[j] as number) - (timestamps[j - lag] as number);
    if (Math.abs(gap - period) > slack) continue;
    const a = (values[j] as number) - shift;
    const b = (values[j - lag] as number) - shift;
    if (a - a !== 0 || b - b !== 0) continue;
    n++;
    sa += a;
    sb += b;
    saa += a * a;
    sbb += b * b;
    sab += a * b;
  }
  if (n < 3) return { correlation: 0, pairs: n };
  const cov = sab - (sa * sb) / n;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  const correlation = va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
  return { correlation: Number.isFinite(correlation) ? correlation : 0, pairs: n };
}
