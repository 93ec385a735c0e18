import type { Verdict } from '../../src/core/types.js';
import { createDetector } from '../../src/detectors/index.js';
import type { Detector, SeriesHistory } from '../../src/detectors/types.js';

export const HOUR_MS = 3_600_000;

/** History of `values` at one point per `stepMs` from 0, with an optional anomaly mask. */
export function historyOf(
  values: readonly number[],
  stepMs = HOUR_MS,
  flagged: readonly number[] = [],
): SeriesHistory {
  const anomalous = new Uint8Array(values.length);
  for (const index of flagged) anomalous[index] = 1;
  return {
    timestamps: Float64Array.from(values, (_, index) => index * stepMs),
    values: Float64Array.from(values),
    anomalous,
  };
}

/** Judges the point after `values` (timestamp one step after the last). */
export function judge(
  detector: Detector,
  values: readonly number[],
  next: number,
  stepMs = HOUR_MS,
): Verdict {
  return detector.evaluate(historyOf(values, stepMs), { timestamp: values.length * stepMs, value: next });
}

export function detector(
  kind: string,
  options: Record<string, unknown> = {},
  metric = 'test_metric',
): Detector {
  return createDetector(kind, options, { metric });
}

/**
 * Streams a whole series the way the backtest does (each point judged on the points before it,
 * anomalous ones masked) and returns every verdict.
 */
export function stream(det: Detector, timestamps: Float64Array, values: Float64Array): Verdict[] {
  const mask = new Uint8Array(values.length);
  const verdicts: Verdict[] = [];
  for (let i = 0; i < values.length; i++) {
    const history = {
      timestamps: timestamps.subarray(0, i),
      values: values.subarray(0, i),
      anomalous: mask.subarray(0, i),
    };
    const verdict = det.evaluate(history, { timestamp: timestamps[i] as number, value: values[i] as number });
    mask[i] = verdict.anomalous ? 1 : 0;
    verdicts.push(verdict);
  }
  return verdicts;
}

/** A noisy but deterministic series: base + amplitude·sin, no randomness needed. */
export function wiggle(length: number, base = 100, amplitude = 2): number[] {
  return Array.from(
    { length },
    (_, index) => base + amplitude * Math.sin(index * 1.7) + (index % 3) * 0.3 * amplitude,
  );
}
