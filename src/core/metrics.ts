import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Metrics live in a registry owned by the daemon and passed to each part in its deps, so two
 * daemons in one test process never share counters. Every vigil metric is named `vigil_*`.
 */
export type MetricsRegistry = Registry;

export function createMetricsRegistry(options: { processMetrics?: boolean } = {}): MetricsRegistry {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

type MetricConfig<Label extends string> = { name: string; help: string; labelNames?: readonly Label[] };

/** Returns the registry's counter of that name, creating it once (parts may be built twice). */
export function counter<Label extends string>(
  registry: Registry,
  config: MetricConfig<Label>,
): Counter<Label> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) return existing as Counter<Label>;
  return new Counter({ ...config, labelNames: config.labelNames ?? [], registers: [registry] });
}

export function gauge<Label extends string>(registry: Registry, config: MetricConfig<Label>): Gauge<Label> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) return existing as Gauge<Label>;
  return new Gauge({ ...config, labelNames: config.labelNames ?? [], registers: [registry] });
}

export function histogram<Label extends string>(
  registry: Registry,
  config: MetricConfig<Label> & { buckets?: number[] },
): Histogram<Label> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) return existing as Histogram<Label>;
  return new Histogram({ ...config, labelNames: config.labelNames ?? [], registers: [registry] });
}
