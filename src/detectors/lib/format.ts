import type { Unit, WindowSpec } from './options.js';

/** Metric-name suffixes that mark a percentage (values in percent points, 0–100). */
export const PERCENT_SUFFIXES = ['_coverage', '_completeness', '_pct', '_ratio'] as const;

/** Percent when `unit: percent`, or `unit: auto` and the metric name ends in a percent suffix. */
export function isPercent(metric: string, unit: Unit): boolean {
  if (unit !== 'auto') return unit === 'percent';
  return PERCENT_SUFFIXES.some((suffix) => metric.endsWith(suffix));
}

/** A value as a human reads it: `44.7%` for percent metrics, else up to 4 significant digits. */
export function formatValue(value: number, percent: boolean): string {
  return percent ? `${formatNumber(value)}%` : formatNumber(value);
}

/** Compact number: 0.0123, 91.8, 1234, 1.23e+9; never more than about 4 significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0';
  if (magnitude >= 1e6 || magnitude < 1e-3) return value.toExponential(2);
  if (magnitude >= 100) return tenths(Math.round(value * 10));
  return String(toPrecision3(value, magnitude));
}

/**
 * String(t / 10) for an integer |t| < 1e7, from integer digits: the double nearest t/10 prints as
 * t/10's own one-decimal text, which integer-to-string spells faster than the double printer.
 */
function tenths(t: number): string {
  const a = Math.abs(t);
  const digit = a % 10;
  const whole = (a - digit) / 10;
  const text = digit === 0 ? String(whole) : `${whole}.${digit}`;
  return t < 0 ? `-${text}` : text;
}

/**
 * Number(value.toPrecision(3)) for 1e-3 <= |value| < 100, without the string round trip:
 * scale to three significant digits, round, scale back (an exact power of ten, so the division
 * is correctly rounded, as Number() of the digits is). Near a rounding tie the scaled product
 * may have rounded the other way than the exact binary value does: defer to toPrecision there.
 */
function toPrecision3(value: number, magnitude: number): number {
  const scale =
    magnitude >= 10 ? 10 : magnitude >= 1 ? 100 : magnitude >= 0.1 ? 1e3 : magnitude >= 0.01 ? 1e4 : 1e5;
  const scaled = magnitude * scale;
  const fraction = scaled - Math.floor(scaled);
  if (Math.abs(fraction - 0.5) < 1e-6) return Number(value.toPrecision(3));
  const rounded = Math.round(scaled) / scale;
  return value < 0 ? -rounded : rounded;
}

const UNITS: readonly [number, string][] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1_000, 'second'],
];

/** `28-day`, `6-hour`, `last 100-point`: the adjective used in "its 28-day mean". */
export function describeWindow(spec: WindowSpec): string {
  if ('points' in spec) return `${spec.points}-point`;
  for (const [size, name] of UNITS) if (spec.ms % size === 0) return `${spec.ms / size}-${name}`;
  return `${spec.ms}-ms`;
}

/** `6.3σ` with one decimal; large values without decimals so reasons stay short. */
export function formatSigma(z: number): string {
  const magnitude = Math.abs(z);
  if (magnitude >= 1e6) return `${magnitude.toExponential(1)}σ`;
  return magnitude >= 100 ? `${Math.round(magnitude)}σ` : `${toFixed1(magnitude)}σ`;
}

/** magnitude.toFixed(1) for 0 <= magnitude < 100, by integer arithmetic (toFixed itself near ties). */
function toFixed1(magnitude: number): string {
  const scaled = magnitude * 10;
  const fraction = scaled - Math.floor(scaled);
  // Near a tie, and for NaN, toFixed itself.
  if (!(Math.abs(fraction - 0.5) >= 1e-6)) return magnitude.toFixed(1);
  const tenths = Math.round(scaled);
  return `${(tenths - (tenths % 10)) / 10}.${tenths % 10}`;
}
