import fc from 'fast-check';
import {
  mean,
  medianAbsoluteDeviation,
  sampleStandardDeviation,
  median as ssMedian,
} from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { median, robustSpread, selectKth } from '../../src/detectors/lib/select.js';
import { emptyMeanStd, episodeStart, meanStd } from '../../src/detectors/lib/window.js';
import { historyOf } from './support.js';

describe('meanStd', () => {
  it('stays exact at a large offset (values around 1e9), where a running sum of squares fails', () => {
    const values = Array.from({ length: 288 }, (_, index) => 1e9 + (index % 2 === 0 ? 1 : -1));
    const naiveSum = values.reduce((sum, value) => sum + value, 0);
    const naiveSumSq = values.reduce((sum, value) => sum + value * value, 0);
    const naiveVariance = (naiveSumSq - (naiveSum * naiveSum) / values.length) / (values.length - 1);

    const stats = meanStd(historyOf(values), 0, values.length, values.length, emptyMeanStd());

    expect(stats.mean).toBe(1e9);
    expect(stats.std).toBeCloseTo(sampleStandardDeviation(values), 12);
    // The naive formula is far off (it even goes negative or zero): the reason for shifted sums.
    expect(Math.abs(Math.sqrt(Math.max(0, naiveVariance)) - stats.std)).toBeGreaterThan(0.1);
  });

  it('matches simple-statistics on arbitrary windows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 300 }),
        (values) => {
          const stats = meanStd(historyOf(values), 0, values.length, values.length, emptyMeanStd());
          expect(stats.mean).toBeCloseTo(mean(values), 6);
          expect(stats.std).toBeCloseTo(sampleStandardDeviation(values), 5);
        },
      ),
    );
  });

  it('handles values near the largest double without overflowing to Infinity', () => {
    const stats = meanStd(historyOf([1.7e308, -1.7e308, 1.7e308]), 0, 3, 3, emptyMeanStd());

    expect(Number.isFinite(stats.mean)).toBe(true);
    expect(Number.isFinite(stats.std)).toBe(true);
  });
});

describe('selection', () => {
  it('selectKth and median agree with sorting', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 200 }),
        fc.nat(),
        (values, seed) => {
          const sorted = [...values].sort((a, b) => a - b);
          const k = seed % values.length;
          // + 0 turns -0 into 0: equal values may come back in either order, and -0 === 0.
          expect(selectKth(Float64Array.from(values), values.length, k) + 0).toBe((sorted[k] as number) + 0);
          expect(median(Float64Array.from(values), values.length)).toBeCloseTo(ssMedian(values), 9);
        },
      ),
    );
  });

  it('selectKth partitions around the k-th smallest, also with many equal values and long windows', () => {
    const few = fc.integer({ min: -3, max: 3 });
    const spread = fc.double({ min: -1e6, max: 1e6, noNaN: true });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(few, { minLength: 1, maxLength: 400, size: 'max' }),
          fc.array(spread, { minLength: 1, maxLength: 400, size: 'max' }),
        ),
        fc.nat(),
        (values, seed) => {
          const k = seed % values.length;
          const a = Float64Array.from(values);
          const kth = selectKth(a, values.length, k);
          const sorted = [...values].sort((x, y) => x - y);

          expect(kth + 0).toBe((sorted[k] as number) + 0);
          const plus = (xs: Iterable<number>) => [...xs].map((x) => x + 0).sort((x, y) => x - y);
          expect(plus(a)).toEqual(plus(sorted));
          expect(a.subarray(0, k).every((x) => x <= kth)).toBe(true);
          expect(a.subarray(k + 1).every((x) => x >= kth)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('robustSpread is 1.4826 × MAD, and falls back to the mean absolute deviation when MAD is 0', () => {
    const values = [1, 2, 3, 4, 100];
    const spiky = [0, 0, 0, 0, 0, 0, 10];

    expect(robustSpread(Float64Array.from(values), 5, 3)).toBeCloseTo(
      1.4826 * medianAbsoluteDeviation(values),
      12,
    );
    expect(robustSpread(Float64Array.from(spiky), 7, 0)).toBeCloseTo((10 / 7) * 1.2533, 12);
  });
});

describe('episodeStart', () => {
  it('is the start of the trailing run of flagged points, across missing ones', () => {
    const history = historyOf([1, 2, 3, Number.NaN, 5, 6], 1, [1, 2, 4, 5]);

    expect(episodeStart(history, 6)).toBe(1);
    expect(episodeStart(historyOf([1, 2, 3], 1, [0, 2]), 3)).toBe(2);
    expect(episodeStart(historyOf([1, 2, 3], 1, [0]), 3)).toBe(3);
  });
});
