import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import type { Clock } from '../../src/core/clock.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { assembleCollection } from '../../src/pipeline/assemble.js';
import type { PolicyStage } from '../../src/pipeline/policy-stage.js';
import { runTick, type TickReport } from '../../src/pipeline/tick.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { REDIS_URL } from './redis.js';

/**
 * The seed config's collectors (examples/nba-props.yaml) against the sandbox, ticking through the
 * daemon's own store → judge path: `tick(id)` is what the scheduler (and the verification) run.
 */
export async function seedCollection(options: {
  sandbox: Sandbox;
  namespace: string;
  dataDir: string;
  clock: Clock;
  redis: import('ioredis').Redis;
  onFindings?: PolicyStage;
}): Promise<{ tick(collectorId: string): Promise<TickReport>; close(): Promise<void> }> {
  const env = {
    ...options.sandbox.env,
    NO_PROXY: '127.0.0.1',
    VIGIL_REDIS_URL: REDIS_URL,
    VIGIL_KEY_PREFIX: options.namespace,
    VIGIL_DATA_DIR: options.dataDir,
  };
  const config = { ...(await loadConfig('examples/nba-props.yaml', env)), data_dir: options.dataDir };
  const metrics = createMetricsRegistry({ processMetrics: false });
  const logger = pino({ level: 'silent' });
  const built = assembleCollection(config, {
    logger,
    clock: options.clock,
    metrics,
    redis: options.redis,
    lease: false,
  });
  const seenSeries = new Set<string>();
  return {
    tick(collectorId) {
      const collector = built.collectors.find((candidate) => candidate.id === collectorId);
      if (!collector) throw new Error(`no collector ${collectorId}`);
      return runTick(collector, {
        store: built.store,
        bindings: built.bindings,
        clock: options.clock,
        logger,
        metrics,
        readPoints: config.history.read_points,
        persist: true,
        seenSeries,
        onFindings: (findings) => options.onFindings?.(findings, collectorId) ?? Promise.resolve(),
      });
    },
    close: () => built.close(),
  };
}
