/**
 * Order statistics by selection (Hoare's quickselect with a median-of-three pivot): O(n)
 * expected, in place, no allocation. A full sort per evaluation would cost O(n log n) on every
 * series every tick.
 */

/** Rearranges `a[0..n)` so that `a[k]` is the k-th smallest; returns it. */
export function selectKth(a: Float64Array, n: number, k: number): number {
  let left = 0;
  let right = n - 1;
  while (right > left) {
    const mid = (left + right) >>> 1;
    // Median of three moved to a[mid] guards against sorted and reverse-sorted windows.
    if ((a[mid] as number) < (a[left] as number)) swap(a, mid, left);
    if ((a[right] as number) < (a[left] as number)) swap(a, right, left);
    if ((a[right] as number) < (a[mid] as number)) swap(a, right, mid);
    const pivot = a[mid] as number;
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k] as number;
  }
  return a[k] as number;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i] as number;
  a[i] = a[j] as number;
  a[j] = t;
}

/** Median of `a[0..n)`; reorders `a`. NaN when n is 0. */
export function median(a: Float64Array, n: number): number {
  if (n === 0) return Number.NaN;
  const upper = selectKth(a, n, n >> 1);
  if (n % 2 === 1) return upper;
  // After selection everything left of n/2 is <= upper: the lower middle is their maximum.
  let lower = a[0] as number;
  for (let i = 1; i < n >> 1; i++) if ((a[i] as number) > lower) lower = a[i] as number;
  return lower + (upper - lower) / 2;
}

/** Consistency constant that makes the MAD estimate σ for normal data. */
export const MAD_SCALE = 1.4826;

/** Mean absolute deviation scale factor (sqrt(π/2)) so it also estimates σ for normal data. */
export const MEAN_AD_SCALE = 1.2533;

/**
 * Robust spread of `a[0..n)` around `center`: scaled MAD, or, when more than half the window is
 * one value (MAD 0, common for counts), the scaled mean absolute deviation, which is 0 only for a
 * truly flat window. Overwrites `a`.
 */
export function robustSpread(a: Float64Array, n: number, center: number): number {
  let meanAbs = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs((a[i] as number) - center);
    a[i] = d;
    meanAbs += d;
  }
  const mad = median(a, n) * MAD_SCALE;
  return mad > 0 ? mad : n > 0 ? (meanAbs / n) * MEAN_AD_SCALE : 0;
}
