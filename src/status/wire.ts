import { join, resolve } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { gauge, type MetricsRegistry } from '../core/metrics.js';
import { compileBinding } from '../detectors/binding.js';
import { createApiRoutes } from '../http/api.js';
import { defaultId } from '../pipeline/assemble.js';
import type { PolicySnapshot } from '../policies/types.js';
import { HistoryStore } from '../store/history.js';
import { redisKeys } from '../store/keys.js';
import { registerStatusMetrics } from './metrics.js';
import { StatusReader } from './read-model.js';
import { StatusRecorder } from './recorder.js';
import { SeriesViews } from './series.js';

/** A collector whose last success is older than this many intervals is stale... */
const STALE_INTERVALS = 3;
/** ...and never sooner than this: a tick may wait its turn on a busy replica. */
const STALE_FLOOR_MS = 60_000;

/** The status parts of one daemon: what it records, what it reads, and the HTTP routes over them. */
export interface StatusParts {
  readonly recorder: StatusRecorder;
  readonly reader: StatusReader;
  readonly routes: ReturnType<typeof createApiRoutes>;
}

export function createStatusParts(
  config: Config,
  deps: {
    readonly redis: Redis;
    readonly clock: Clock;
    readonly logger: Logger;
    readonly metrics: MetricsRegistry;
    readonly policy: () => PolicySnapshot | undefined;
    readonly queue: () => Queue | undefined;
  },
): StatusParts {
  const keys = redisKeys(config.redis.key_prefix);
  const intervals = new Map(config.collectors.map((c) => [c.id ?? defaultId(c), c.interval]));
  const reader = new StatusReader({
    redis: deps.redis,
    keys,
    clock: deps.clock,
    policy: deps.policy,
    queue: deps.queue,
    staleAfterMs: (id) => {
      const interval = intervals.get(id);
      return interval === undefined ? undefined : Math.max(STALE_FLOOR_MS, STALE_INTERVALS * interval);
    },
  });
  const { findingToStart } = registerStatusMetrics(deps.metrics, reader, deps.policy);
  const interval = gauge(deps.metrics, {
    name: 'vigil_collector_interval_seconds',
    help: 'Configured interval per collector (staleness alerts compare the last success with it)',
    labelNames: ['collector'] as const,
  });
  for (const [id, ms] of intervals) interval.set({ collector: id }, ms / 1_000);
  const recorder = new StatusRecorder(
    deps.redis,
    keys,
    config.replica_id,
    deps.clock,
    deps.logger,
    findingToStart,
  );
  const store = new HistoryStore(deps.redis, {
    keys,
    maxPoints: config.history.max_points,
    maxAgeMs: config.history.max_age,
  });
  const series = new SeriesViews(
    store,
    config.detectors,
    config.detectors.map((binding) => compileBinding(binding)),
    reader,
  );
  const routes = createApiRoutes({ reader, series, auditDir: join(resolve(config.data_dir), 'audit') });
  return { recorder, reader, routes };
}
