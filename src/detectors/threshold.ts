import { z } from 'zod';
import type { Severity, Verdict } from '../core/types.js';
import { formatValue, isPercent } from './lib/format.js';
import { unit } from './lib/options.js';
import { missingPointVerdict } from './lib/verdict.js';
import type { Detector, DetectorDefinition, EvaluatedPoint } from './types.js';

/**
 * Absolute SLO bands, as the seed platform's monitors had them: with `direction: down`,
 * value ≥ warning is ok, critical ≤ value < warning is a warning, value < critical is critical
 * (the defaults are the seed's 80 / 50). With `direction: up` the bands mirror (latency, lag).
 * Needs no history; use it next to a z-score so both "bad in absolute terms" and "unusual" alert.
 */
export const thresholdOptions = z
  .strictObject({
    direction: z.enum(['up', 'down']).default('down'),
    warning: z.number().default(80),
    critical: z.number().default(50),
    unit: unit.default('auto'),
  })
  .refine((o) => (o.direction === 'down' ? o.critical < o.warning : o.critical > o.warning), {
    path: ['critical'],
    message: 'critical must be beyond warning in the alerting direction (below it for down, above it for up)',
  });

export type ThresholdOptions = z.infer<typeof thresholdOptions>;

export const threshold: DetectorDefinition<ThresholdOptions> = {
  kind: 'threshold',
  summary: 'absolute SLO bands: ok, warning and critical edges, direction-aware',
  options: thresholdOptions,
  create(options, deps): Detector {
    const percent = isPercent(deps.metric, options.unit);
    const width = Math.abs(options.warning - options.critical);
    const down = options.direction === 'down';
    const edge = (value: number) => formatValue(value, percent);
    const bands = `${down ? 'warning below' : 'warning above'} ${edge(options.warning)}, critical ${down ? 'below' : 'above'} ${edge(options.critical)}`;
    return {
      kind: 'threshold',
      minHistory: 0,
      evaluate(_history, point: EvaluatedPoint): Verdict {
        if (!Number.isFinite(point.value)) return missingPointVerdict('threshold', deps.metric);
        // Band units: 0 at the warning edge, 1 at the critical edge, positive on the bad side.
        const statistic = (down ? options.warning - point.value : point.value - options.warning) / width;
        const severity: Severity = statistic > 1 ? 'critical' : statistic > 0 ? 'warning' : 'ok';
        const where = severity === 'ok' ? 'is inside its SLO band' : `breaches its ${severity} SLO band`;
        return {
          detector: 'threshold',
          anomalous: severity !== 'ok',
          severity,
          score: bandScore(statistic),
          statistic,
          baseline: { center: options.warning, spread: width, n: 0, window: 'SLO band' },
          reason: `${deps.metric} ${edge(point.value)} ${where} (${bands})`,
        };
      },
    };
  },
};

/**
 * Continuous, strictly increasing map of band units to [0, 1]: 0.5 at the warning edge, 0.75 at the
 * critical edge, approaching 1 far beyond it and 0 far inside the band.
 */
export function bandScore(statistic: number): number {
  if (statistic > 0)
    return statistic === Number.POSITIVE_INFINITY ? 1 : 0.5 + (0.5 * statistic) / (1 + statistic);
  return 0.5 * Math.exp(4 * Math.max(statistic, -200));
}
