import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SeriesHistory } from '../../src/detectors/types.js';
import { detector } from './support.js';

/**
 * robust-zscore keeps each series' window sorted from one tick to the next (keyed by the history's
 * values array). Whatever happens to the history between ticks — the cache's in-place shift, a
 * look-back rewriting old points, flags, missing values, a fresh read — a long-lived detector must
 * judge exactly as a fresh one does, which always selects from scratch.
 */
const value = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -20, max: 20 }).map((x) => 100 + x / 2) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, 0, -0, 100) },
  { weight: 1, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
);

type Step =
  | { readonly kind: 'append'; readonly values: number[]; readonly gap: number }
  | { readonly kind: 'rewrite'; readonly at: number; readonly value: number }
  | { readonly kind: 'flag'; readonly at: number }
  | { readonly kind: 'reread' }
  | { readonly kind: 'none' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      values: fc.array(value, { minLength: 1, maxLength: 3 }),
      gap: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rewrite' as const), at: fc.nat(), value }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flag' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reread' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

/** A history of fixed capacity, moved on in place like the detection cache moves a full window. */
function cacheLike(initial: readonly number[]): { history: SeriesHistory; apply(step: Step): void } {
  let history: SeriesHistory = {
    timestamps: Float64Array.from(initial, (_, i) => i * 10),
    values: Float64Array.from(initial),
    anomalous: new Uint8Array(initial.length),
  };
  const apply = (change: Step) => {
    const { timestamps, values, anomalous } = history as Required<SeriesHistory>;
    const length = values.length;
    if (change.kind === 'append') {
      let t = length > 0 ? (timestamps[length - 1] as number) : 0;
      for (const x of change.values) {
        t += 10 * change.gap;
        if (length === 0) continue;
        timestamps.copyWithin(0, 1);
        values.copyWithin(0, 1);
        anomalous.copyWithin(0, 1);
        timestamps[length - 1] = t;
        values[length - 1] = x;
        anomalous[length - 1] = 0;
      }
    } else if (change.kind === 'rewrite' && length > 0) {
      values[change.at % length] = change.value;
    } else if (change.kind === 'flag' && length > 0) {
      anomalous[change.at % length] = 1;
    } else if (change.kind === 'reread') {
      history = {
        timestamps: Float64Array.from(timestamps),
        values: Float64Array.from(values),
        anomalous: Uint8Array.from(anomalous),
      };
    }
  };
  return {
    get history() {
      return history;
    },
    apply,
  };
}

/**
 * −0 as 0, recursively. Selection and a sorted window may pick different ones of equal values, so
 * a median of {0, −0} can come out as either zero; they are the same number and print the same.
 */
function unsignedZeros<T>(value: T): T {
  if (typeof value === 'number') return (value === 0 ? 0 : value) as T;
  if (typeof value !== 'object' || value === null) return value;
  const copy = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
  for (const [key, field] of Object.entries(value)) copy[key] = unsignedZeros(field);
  return copy as T;
}

describe('robust-zscore across ticks', () => {
  it('a long-lived detector judges every tick exactly as a fresh one', () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 0, maxLength: 40 }),
        fc.array(fc.tuple(step, value, fc.boolean()), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 1, max: 12 }),
        (initial, steps, window, minHistory) => {
          const options = { window, min_history: Math.min(minHistory, window) };
          const longLived = detector('robust-zscore', options);
          const series = cacheLike(initial);
          for (const [change, next, inside] of steps) {
            series.apply(change);
            const { history } = series;
            const length = history.values.length;
            // As the tick judges it (the newest stored point against those before it), or a new point.
            const point =
              inside && length > 0
                ? {
                    timestamp: history.timestamps[length - 1] as number,
                    value: history.values[length - 1] as number,
                  }
                : {
                    timestamp: (length > 0 ? (history.timestamps[length - 1] as number) : 0) + 10,
                    value: next,
                  };
            const fresh = detector('robust-zscore', options);
            expect(unsignedZeros(longLived.evaluate(history, point))).toEqual(
              unsignedZeros(fresh.evaluate(history, point)),
            );
          }
        },
      ),
      { numRuns: 600 },
    );
  });
});
