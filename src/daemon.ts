import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Clock } from './core/clock.js';
import { CleanupStack } from './core/lifecycle.js';
import type { Logger } from './core/logger.js';
import { createMetricsRegistry, gauge, type MetricsRegistry } from './core/metrics.js';
import { type ReadinessCheck, type RunningHttpServer, startHttpServer } from './http/server.js';
import { PolicyWatcher } from './policies/watcher.js';
import { createRedis, evictionProblem, pingRedis } from './store/redis.js';

/**
 * The vigil daemon: wiring and lifecycle.
 *
 *   schedule ─▶ collectors ─▶ history (Redis) ─▶ detectors ─▶ findings
 *                                                               │
 *                                  policy (rules, modes, overrides) ─▶ decisions
 *                                                               │
 *            remediation queue (BullMQ) ─▶ worker (audit, breaker, execute) ─▶ notify
 *                                                               │
 *                                               verification ─▶ verified | ineffective
 *
 * start(): Redis connection (retried in the background; not ready until connected) → HTTP.
 * stop(): named cleanups in reverse order of construction — intake first (HTTP), then
 * in-flight work, then connections — bounded by `shutdown_grace`. Both are idempotent.
 */
export interface DaemonDeps {
  readonly logger: Logger;
  readonly clock: Clock;
}

export class Daemon {
  readonly metrics: MetricsRegistry = createMetricsRegistry();
  private readonly cleanups = new CleanupStack();
  private readonly readinessChecks: ReadinessCheck[] = [];
  private redis: Redis | undefined;
  private http: RunningHttpServer | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private evictionReason: string | null = null;
  private policy: PolicyWatcher | undefined;

  constructor(
    readonly config: Config,
    private readonly deps: DaemonDeps,
  ) {}

  /** URL of the HTTP endpoints once started. */
  get url(): string | undefined {
    return this.http?.url;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  /** Idempotent; safe to call before start() finished (it waits for it, then tears down). */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStart(): Promise<void> {
    const { logger } = this.deps;
    logger.info({ replica: this.config.replica_id, config: this.config.source }, 'vigil starting');
    this.startRedis();
    await this.startPolicy();
    this.http = await startHttpServer(this.config.http, {
      logger: logger.child({ component: 'http' }),
      metrics: this.metrics,
      readiness: () => this.readinessChecks,
    });
    this.cleanups.push('http', () => this.http?.close());
    logger.info({ url: this.http.url }, 'vigil started');
  }

  private startRedis(): void {
    const { logger } = this.deps;
    const redis = createRedis(
      {
        url: this.config.redis.url,
        connectTimeoutMs: this.config.redis.connect_timeout,
        maxRetryDelayMs: this.config.redis.max_retry_delay,
      },
      logger.child({ component: 'redis' }),
    );
    this.redis = redis;
    const evictionOk = gauge(this.metrics, {
      name: 'vigil_redis_eviction_policy_ok',
      help: '1 when Redis maxmemory-policy is noeviction (or cannot be read), 0 when keys may be evicted',
    });
    redis.on('ready', () => {
      void evictionProblem(redis).then((problem) => {
        this.evictionReason = problem;
        evictionOk.set(problem ? 0 : 1);
        if (problem) logger.error({ problem }, 'redis eviction policy is unsafe; refusing to become ready');
      });
    });
    // Connection failures are retried by ioredis; the first failure must not reject start().
    redis.connect().catch(() => undefined);
    this.readinessChecks.push({
      name: 'redis',
      check: async () => (await pingRedis(redis, 1_000)) ?? this.evictionReason,
    });
    this.cleanups.push('redis', () => closeRedis(redis));
  }

  /** Re-reads the policy file now (SIGHUP). A rejected edit keeps the policy in force. */
  async reloadPolicy(): Promise<void> {
    await this.policy?.reload();
  }

  private async startPolicy(): Promise<void> {
    const file = this.config.policy_file;
    if (!file) {
      this.deps.logger.warn('no policy_file configured: findings are reported, nothing is remediated');
      return;
    }
    const logger = this.deps.logger.child({ component: 'policy' });
    const watcher = new PolicyWatcher({ file, registry: this.metrics, logger, clock: this.deps.clock });
    this.policy = watcher;
    let lastProblem = 'not loaded yet';
    watcher.on('rejected', (problems) => {
      lastProblem = problems[0] ?? 'invalid policy';
    });
    // An invalid policy at start leaves vigil alive but not ready; a valid edit makes it ready.
    await watcher.start();
    this.readinessChecks.push({
      name: 'policy',
      check: async () => (watcher.ready ? null : `policy ${file} not loaded: ${lastProblem}`),
    });
    this.cleanups.push('policy-watcher', () => watcher.stop());
  }

  private async doStop(): Promise<void> {
    const { logger } = this.deps;
    await this.starting?.catch(() => undefined);
    logger.info({ graceMs: this.config.shutdown_grace }, 'vigil stopping');
    try {
      await this.cleanups.runAll(this.config.shutdown_grace);
      logger.info('vigil stopped');
    } catch (error) {
      logger.error({ err: error }, 'vigil stopped with cleanup failures');
      throw error;
    }
  }
}

async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit();
    return;
  }
  // Not connected: quit() would wait for a connection that may never come.
  redis.disconnect();
}
