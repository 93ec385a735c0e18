import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { collectorRegistry } from '../collectors/index.js';
import type { PlatformAccess } from '../collectors/types.js';
import type { CollectorEntry, Config } from '../config.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { MetricsRegistry } from '../core/metrics.js';
import { type CompiledBinding, compileBinding } from '../detectors/binding.js';
import { createGitMirrors } from '../platform/git.js';
import { createGcpClients, type GcpClients } from '../platform/index.js';
import { HistoryStore } from '../store/history.js';
import { redisKeys } from '../store/keys.js';
import { RunningCollector } from './running.js';

/**
 * Builds the collection side of vigil from a validated config: collector instances wrapped by
 * the runner, compiled detector bindings, the history store, and lazily created platform
 * clients. Shared by `vigil run` and `vigil once`, so both take the same code path. Building
 * is offline; the first network call happens in the first tick.
 */
export interface CollectionDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: MetricsRegistry;
  readonly redis: Redis;
  /** False for one-shot tools: no cross-replica lease is taken. */
  readonly lease: boolean;
}

export interface Collection {
  readonly collectors: readonly RunningCollector[];
  readonly entries: ReadonlyMap<string, CollectorEntry>;
  readonly bindings: readonly CompiledBinding[];
  readonly store: HistoryStore;
  /** Google clients, created on first use (collectors and the remediation worker share them). */
  readonly platform: PlatformAccess;
  close(): Promise<void>;
}

export function assembleCollection(config: Config, deps: CollectionDeps): Collection {
  let gcp: GcpClients | undefined;
  const clients = (): GcpClients => {
    gcp ??= createGcpClients({
      // Config validation guarantees a project whenever a Google collector is configured.
      project: config.gcp.project ?? '',
      region: config.gcp.region,
      endpoint: config.gcp.endpoint,
      timeoutMs: config.gcp.timeout,
      clock: deps.clock,
    });
    return gcp;
  };
  const platform: PlatformAccess = { bigquery: () => clients().bigquery, cloudRun: () => clients().run };
  const git = createGitMirrors({
    directory: join(resolve(config.data_dir), 'git'),
    timeoutMs: config.gcp.timeout,
  });
  const entries = new Map<string, CollectorEntry>();
  const collectors = config.collectors.map((entry) => {
    const id = entry.id ?? defaultId(entry);
    entries.set(id, entry);
    const definition = collectorRegistry.get(entry.kind);
    const logger = deps.logger.child({ component: `collector.${entry.kind}::${id}` });
    const instance = definition.create(definition.options.parse(entry.options), {
      logger,
      clock: deps.clock,
      platform,
      git,
    });
    return new RunningCollector(id, entry.kind, instance, entry.timeout, {
      logger,
      clock: deps.clock,
      metrics: deps.metrics,
      redis: deps.lease ? deps.redis : undefined,
      keys: redisKeys(config.redis.key_prefix),
    });
  });
  const store = new HistoryStore(deps.redis, {
    keys: redisKeys(config.redis.key_prefix),
    maxPoints: config.history.max_points,
    maxAgeMs: config.history.max_age,
  });
  return {
    collectors,
    entries,
    bindings: uniqueIds(config.detectors.map((binding) => compileBinding(binding))),
    store,
    platform,
    async close() {
      await gcp?.close();
    },
  };
}

/** Two bindings with one id would share detection state and finding ids: a config error. */
function uniqueIds(bindings: CompiledBinding[]): CompiledBinding[] {
  const seen = new Map<string, number>();
  bindings.forEach((binding, index) => {
    const first = seen.get(binding.id);
    if (first !== undefined)
      throw new ConfigError(
        `detectors[${first}] and detectors[${index}] have the same id ${binding.id} (same content, or the same id:); give one of them its own id:`,
      );
    seen.set(binding.id, index);
  });
  return bindings;
}

/** Without an `id:`, a collector is named by its kind and a hash of its options (stable across restarts). */
export function defaultId(entry: CollectorEntry): string {
  const hash = createHash('sha256').update(JSON.stringify(entry.options)).digest('hex').slice(0, 8);
  return `${entry.kind}-${hash}`;
}
