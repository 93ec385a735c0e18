import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatNumber, formatSigma } from '../../src/detectors/lib/format.js';

// The string round trips formatNumber and formatSigma replaced, kept as their specification.
function referenceNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0';
  if (magnitude >= 1e6 || magnitude < 1e-3) return value.toExponential(2);
  if (magnitude >= 100) return String(Math.round(value * 10) / 10);
  return String(Number(value.toPrecision(3)));
}

function referenceSigma(z: number): string {
  const magnitude = Math.abs(z);
  if (magnitude >= 1e6) return `${magnitude.toExponential(1)}σ`;
  return magnitude >= 100 ? `${Math.round(magnitude)}σ` : `${magnitude.toFixed(1)}σ`;
}

describe('number formatting', () => {
  // Log-uniform magnitudes across every branch, and decimal ties (x.x5, x.xx5) where rounding bites.
  const logUniform = fc
    .tuple(fc.double({ min: -5, max: 7, noNaN: true }), fc.boolean())
    .map(([exponent, negative]) => (negative ? -1 : 1) * 10 ** exponent);
  const ties = fc
    .tuple(
      fc.integer({ min: 1, max: 9_999_999 }),
      fc.constantFrom(10, 100, 1000, 1e4, 1e5, 1e6),
      fc.boolean(),
    )
    .map(([digits, scale, negative]) => ((negative ? -1 : 1) * (digits + 0.5)) / scale);
  // Ties at the third significant digit (1.005 … 99.95), where toPrecision(3) rounds.
  const precisionTies = fc
    .tuple(fc.integer({ min: 100, max: 999 }), fc.constantFrom(10, 100, 1000, 1e4, 1e5), fc.boolean())
    .map(([digits, scale, negative]) => ((negative ? -1 : 1) * (digits + 0.5)) / scale);
  const value = fc.oneof(
    logUniform,
    ties,
    precisionTies,
    fc.double(),
    fc.constantFrom(0, -0, 99.95, 99.95000000000002, 0.0995, 9.995, 100.05, -0.00105),
  );

  it('formatNumber prints exactly what the toPrecision / String round trip printed', () => {
    fc.assert(
      fc.property(value, (x) => {
        expect(formatNumber(x)).toBe(referenceNumber(x));
      }),
      { numRuns: 50_000 },
    );
  });

  it('formatSigma prints exactly what toFixed(1) printed', () => {
    fc.assert(
      fc.property(value, (x) => {
        expect(formatSigma(x)).toBe(referenceSigma(x));
      }),
      { numRuns: 50_000 },
    );
  });
});
