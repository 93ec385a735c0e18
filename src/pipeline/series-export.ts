import { counter, gauge, type MetricsRegistry } from '../core/metrics.js';

/**
 * The collected values themselves on /metrics (config `metrics.export_series`), so a dashboard can
 * plot what vigil judged next to what it did. Off by default: one time series per collected series
 * is the label cardinality Prometheus warns about, so the set is capped at `maxSeries` and what
 * does not fit is counted, never silently dropped.
 */
export interface SeriesExportSettings {
  readonly maxSeries: number;
}

export interface ExportedPoint {
  readonly series: string;
  readonly metric: string;
  readonly value?: number | undefined;
}

export class SeriesExport {
  private readonly exported = new Set<string>();
  private readonly values;
  private readonly refused;

  constructor(
    registry: MetricsRegistry,
    private readonly settings: SeriesExportSettings,
  ) {
    this.values = gauge(registry, {
      name: 'vigil_collected_value',
      help: 'Newest collected value of each series (metrics.export_series; capped at metrics.max_series)',
      labelNames: ['metric', 'series'] as const,
    });
    this.refused = counter(registry, {
      name: 'vigil_collected_value_over_cap_total',
      help: 'Collected points not exported because metrics.max_series series are already exported',
    });
  }

  /** Called once per tick with every judged series; sets the newest value of each. */
  record(points: readonly ExportedPoint[]): void {
    for (const point of points) {
      if (point.value === undefined || !Number.isFinite(point.value)) continue;
      if (!this.exported.has(point.series)) {
        if (this.exported.size >= this.settings.maxSeries) {
          this.refused.inc();
          continue;
        }
        this.exported.add(point.series);
      }
      this.values.set({ metric: point.metric, series: point.series }, point.value);
    }
  }
}
