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
  if (magnitude >= 100) return String(Math.round(value * 10) / 10);
  return String(Number(value.toPrecision(3)));
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
  return magnitude >= 100 ? `${Math.round(magnitude)}σ` : `${magnitude.toFixed(1)}σ`;
}
