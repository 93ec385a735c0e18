import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detector, HOUR_MS, historyOf } from './support.js';

const KINDS = ['zscore', 'robust-zscore', 'seasonal-zscore', 'ewma', 'threshold'];
const Z_KINDS = ['zscore', 'robust-zscore', 'seasonal-zscore', 'ewma'];
const OPTIONS: Record<string, Record<string, unknown>> = {
  'seasonal-zscore': { period: '6h', seasons: 3, tolerance: '0s', min_seasonal_points: 2 },
};

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const anyValue = fc.oneof(
  finite,
  fc.constantFrom(Number.NaN, Infinity, -Infinity),
  fc.double({ min: -1e3, max: 1e3, noNaN: true }),
);

describe('properties', () => {
  it.each(KINDS)('%s: score is always in [0, 1] and never NaN', (kind) => {
    const det = detector(kind, OPTIONS[kind] ?? (kind === 'threshold' ? {} : { min_history: 2 }));
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 60 }), anyValue, (values, next) => {
        const verdict = det.evaluate(historyOf(values), { timestamp: values.length * HOUR_MS, value: next });
        expect(verdict.score).toBeGreaterThanOrEqual(0);
        expect(verdict.score).toBeLessThanOrEqual(1);
        expect(verdict.statistic === null || Number.isFinite(verdict.statistic)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  // Series with a real spread (≥ 1) and moderate offsets, so the documented floors (absolute 1e-9,
  // relative 0.1% of |center|) never bind: then z, and so the score, cannot depend on units.
  const series = fc
    .array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 30, maxLength: 60 })
    .map((values) => values.map((value, index) => value + ((index * 7) % 11) * 3 + index * 0.01));

  it.each(Z_KINDS)('%s: score is invariant under shift and positive scale', (kind) => {
    const det = detector(kind, { window: 48, min_history: 5, ...OPTIONS[kind] });
    fc.assert(
      fc.property(
        series,
        fc.double({ min: -50, max: 50, noNaN: true }),
        fc.double({ min: -50, max: 50, noNaN: true }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        (values, next, shift, scale) => {
          const at = { timestamp: values.length * HOUR_MS };
          const base = det.evaluate(historyOf(values), { ...at, value: next });
          const moved = det.evaluate(historyOf(values.map((v) => v * scale + shift)), {
            ...at,
            value: next * scale + shift,
          });
          expect(Math.abs(moved.score - base.score)).toBeLessThan(1e-6);
          expect(moved.severity).toBe(base.severity);
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each(Z_KINDS)('%s: a constant series never alerts until it moves', (kind) => {
    const det = detector(kind, { window: 48, min_history: 5, ...OPTIONS[kind] });
    fc.assert(
      fc.property(
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.integer({ min: 20, max: 60 }),
        (level, length) => {
          const flat = Array.from({ length }, () => level);
          const at = { timestamp: length * HOUR_MS };
          expect(det.evaluate(historyOf(flat), { ...at, value: level }).anomalous).toBe(false);
          const step = Math.max(1, Math.abs(level) * 0.05);
          expect(det.evaluate(historyOf(flat), { ...at, value: level + step }).anomalous).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it.each(Z_KINDS)('%s: a point far inside the band never raises', (kind) => {
    const det = detector(kind, { window: 48, min_history: 5, ...OPTIONS[kind] });
    fc.assert(
      fc.property(series, fc.double({ min: -1, max: 1, noNaN: true }), (values, offset) => {
        const at = { timestamp: values.length * HOUR_MS };
        const probe = det.evaluate(historyOf(values), { ...at, value: 0 });
        const baseline = probe.baseline;
        if (baseline === null) return;
        // Within half the warning threshold (3σ) of the baseline center.
        const inside = baseline.center + offset * 1.5 * baseline.spread;
        const verdict = det.evaluate(historyOf(values), { ...at, value: inside });
        expect(verdict.anomalous).toBe(false);
        expect(verdict.score).toBeLessThan(0.5);
      }),
      { numRuns: 200 },
    );
  });
});
