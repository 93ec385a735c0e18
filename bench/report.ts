import { loadavg } from 'node:os';

/**
 * How every benchmark reports a figure: a human line by default, or with `--json` one JSON line
 * per figure (`{"bench","figure","value","unit","target","met"}`) so a script can compare runs.
 * A target is a bound (`<=` or `>=`); `met` is null for figures without one. Human lines end with
 * the 1-minute load average when the figure was taken: on a shared machine it explains the spread.
 */
export interface Target {
  readonly op: '<=' | '>=' | '<';
  readonly value: number;
}

export interface Figure {
  readonly bench: string;
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: Target;
  /** Human-only context after the value (not in the JSON line). */
  readonly note?: string;
}

export const json = process.argv.includes('--json');

export function met(value: number, target: Target | undefined): boolean | null {
  if (target === undefined) return null;
  if (target.op === '<=') return value <= target.value;
  if (target.op === '<') return value < target.value;
  return value >= target.value;
}

/** Prints one figure; returns whether it met its target (null without one). */
export function report(figure: Figure): boolean | null {
  const ok = met(figure.value, figure.target);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        bench: figure.bench,
        figure: figure.figure.trim(),
        value: round(figure.value),
        unit: figure.unit,
        target: figure.target ? `${figure.target.op} ${figure.target.value}` : null,
        met: ok,
      })}\n`,
    );
    return ok;
  }
  const goal = figure.target
    ? `  (target ${figure.target.op} ${figure.target.value} ${figure.unit}: ${ok ? 'met' : 'MISSED'})`
    : '';
  const note = figure.note ? `  ${figure.note}` : '';
  const load = `  [load ${(loadavg()[0] as number).toFixed(1)}]`;
  process.stdout.write(
    `  ${figure.figure.padEnd(44)} ${format(figure.value).padStart(10)} ${figure.unit}${note}${goal}${load}\n`,
  );
  return ok;
}

/** Free text for humans (headings, explanations); silent with `--json`. */
export function say(text: string): void {
  if (!json) process.stdout.write(`${text}\n`);
}

function format(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(2);
}

function round(value: number): number {
  return Number.isInteger(value) ? value : Number(value.toPrecision(6));
}

/** Median of a sample (the value benchmarks report over repeated runs). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** The q-quantile (0..1) of a sample, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
