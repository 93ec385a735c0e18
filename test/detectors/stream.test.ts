import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median } from '../../src/detectors/lib/select.js';
import {
  SlidingSortedValues,
  sortedMedian,
  sortedMedianAbsDeviation,
} from '../../src/detectors/lib/sorted-values.js';
import { plainVerdict } from '../../src/detectors/lib/verdict.js';
import type { Detector } from '../../src/detectors/types.js';
import { detector, HOUR_MS } from './support.js';

/** Every verdict of `det` over the series, judged as the backtest does (flagged points masked). */
function replay(det: Pick<Detector, 'evaluate'>, timestamps: number[], values: number[]) {
  const ts = Float64Array.from(timestamps);
  const vs = Float64Array.from(values);
  const mask = new Uint8Array(values.length);
  return values.map((value, i) => {
    const history = {
      timestamps: ts.subarray(0, i),
      values: vs.subarray(0, i),
      anomalous: mask.subarray(0, i),
    };
    const verdict = det.evaluate(history, { timestamp: ts[i] as number, value });
    mask[i] = verdict.anomalous ? 1 : 0;
    return plainVerdict(verdict);
  });
}

// Noise around a level, repeated values (MAD 0), missing points and runs of spikes (episodes).
const value = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: 90, max: 110, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(100, 100, 0) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY) },
  { weight: 1, arbitrary: fc.double({ min: 500, max: 1e4, noNaN: true }) },
);
const series = fc
  .array(fc.tuple(value, fc.constantFrom(0, 1, 1, 1, 2, 5)), { minLength: 1, maxLength: 160 })
  .map((rows) => {
    let t = 0;
    const timestamps: number[] = [];
    for (const [, step] of rows) {
      t += step * (HOUR_MS / 2);
      timestamps.push(t);
    }
    return { timestamps, values: rows.map(([v]) => v) };
  });

const CASES: [string, Record<string, unknown>][] = [
  ['auto', { min_history: 3, min_points: 6, window: '4h' }],
  ['auto', { period: '6h', seasons: 3, min_autocorrelation: -1, min_seasonal_points: 2, min_history: 2 }],
  ['robust-zscore', { window: 12, min_history: 4 }],
  ['robust-zscore', { window: '5h', min_history: 3 }],
  [
    'seasonal-zscore',
    { period: '6h', seasons: 3, tolerance: '1h', min_seasonal_points: 2, window: 10, min_history: 3 },
  ],
  [
    'seasonal-zscore',
    { period: '3h', seasons: 4, tolerance: '2h', min_seasonal_points: 5, window: 6, min_history: 2 },
  ],
];

describe('Detector.stream', () => {
  it.each(CASES)('%s %j: a stream gives exactly the verdicts evaluate gives', (kind, options) => {
    const det = detector(kind, options);
    expect(det.stream).toBeDefined();
    fc.assert(
      fc.property(series, ({ timestamps, values }) => {
        const streamed = det.stream?.() as Detector;
        expect(replay(streamed, timestamps, values)).toEqual(replay(det, timestamps, values));
      }),
      { numRuns: 150 },
    );
  });
});

describe('sorted order statistics', () => {
  const values = fc.array(
    fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom(0, 1, 1, 2)),
    {
      minLength: 1,
      maxLength: 80,
    },
  );

  it('median and MAD of a sorted array equal the selection-based ones', () => {
    fc.assert(
      fc.property(values, (list) => {
        const sorted = Float64Array.from(list).sort();
        const center = median(Float64Array.from(list), list.length);
        // + 0 turns -0 into 0: among equal zeros either sign may be picked, and -0 === 0.
        expect(sortedMedian(sorted, list.length) + 0).toBe(center + 0);
        const distances = Float64Array.from(list, (x) => Math.abs(x - center));
        expect(sortedMedianAbsDeviation(sorted, list.length, center) + 0).toBe(
          median(distances, list.length) + 0,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('SlidingSortedValues holds the finite values of its ranges as they slide, jump and shrink', () => {
    const source = Float64Array.from({ length: 60 }, (_, i) =>
      i % 7 === 3 ? Number.NaN : ((i * 37) % 23) - 5,
    );
    const window = new SlidingSortedValues();
    const expected = (froms: number[], tos: number[]) => {
      const list = froms.flatMap((from, r) => Array.from(source.subarray(from, tos[r] as number)));
      return {
        finite: list.filter(Number.isFinite).sort((a, b) => a - b),
        skipped: list.filter((x) => !Number.isFinite(x)).length,
      };
    };
    const steps: [number[], number[]][] = [
      [[0], [10]],
      [[2], [13]],
      [[20], [25]],
      [[5], [8]],
      [
        [5, 30],
        [9, 40],
      ],
      [
        [6, 31],
        [12, 45],
      ],
      [
        [12, 50],
        [12, 55],
      ],
    ];
    for (const [froms, tos] of steps) {
      window.cover(source, froms, tos);
      const want = expected(froms, tos);
      expect(Array.from(window.sorted.subarray(0, window.n))).toEqual(want.finite);
      expect(window.skipped).toBe(want.skipped);
    }
  });
});
