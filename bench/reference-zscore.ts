import { mean, sampleStandardDeviation } from 'simple-statistics';
import type { Verdict } from '../src/core/types.js';
import type { EvaluatedPoint, SeriesHistory } from '../src/detectors/types.js';

/**
 * The straightforward z-score the benchmark compares against: copy the window into an array,
 * drop non-finite values, recompute mean and standard deviation with simple-statistics on
 * every evaluation, and build the same kind of verdict. Kept only as the yardstick.
 */
export function referenceZscore(metric: string, window: number, threshold = 3, critical = 5) {
  return (history: SeriesHistory, point: EvaluatedPoint): Verdict => {
    const values = Array.from(history.values.slice(Math.max(0, history.values.length - window))).filter(
      (value) => Number.isFinite(value),
    );
    const center = mean(values);
    const spread = Math.max(sampleStandardDeviation(values), 1e-9, 1e-3 * Math.abs(center));
    const z = (point.value - center) / spread;
    const magnitude = Math.abs(z);
    const severity = magnitude >= critical ? 'critical' : magnitude >= threshold ? 'warning' : 'ok';
    return {
      detector: 'zscore',
      anomalous: severity !== 'ok',
      severity,
      score: magnitude / (magnitude + threshold),
      statistic: z,
      baseline: { center, spread, n: values.length, window: `${window}-point` },
      reason: `${metric} ${point.value.toFixed(1)} is ${magnitude.toFixed(1)}σ ${z < 0 ? 'below' : 'above'} its ${window}-point mean ${center.toFixed(1)} (σ ${spread.toFixed(1)})`,
    };
  };
}
