import { join, resolve } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AuditRecord } from './audit/chain.js';
import { AuditLog } from './audit/log.js';
import type { Config } from './config.js';
import { ControlStore } from './controls/store.js';
import type { Clock } from './core/clock.js';
import { errorMessage, PermanentError } from './core/errors.js';
import { CleanupStack } from './core/lifecycle.js';
import type { Logger } from './core/logger.js';
import { createMetricsRegistry, gauge, type MetricsRegistry } from './core/metrics.js';
import { type ReadinessCheck, type RunningHttpServer, startHttpServer } from './http/server.js';
import type { Announcer } from './notify/lib/announce.js';
import { announcerFromConfig } from './notify/lib/from-config.js';
import type { NotifyEvent } from './notify/types.js';
import { assembleCollection, type Collection } from './pipeline/assemble.js';
import { createDispatcher } from './pipeline/dispatch.js';
import { EvidenceStore } from './pipeline/evidence.js';
import { createPolicyStage } from './pipeline/policy-stage.js';
import { RemediationWorker } from './pipeline/remediation-worker.js';
import { TickScheduler } from './pipeline/scheduler.js';
import { SeriesExport } from './pipeline/series-export.js';
import { createDetectionCache, runTick, type TickReport } from './pipeline/tick.js';
import type { VerificationDeps } from './pipeline/verification.js';
import { ApprovalStore } from './policies/approvals.js';
import { CounterStore } from './policies/counters.js';
import { CounterRebuild } from './policies/rebuild.js';
import { PolicyWatcher } from './policies/watcher.js';
import type { RemediationPlan } from './remediations/types.js';
import { REPLICA_HEARTBEAT_MS } from './status/keys.js';
import { createStatusParts, type StatusParts } from './status/wire.js';
import { redisKeys } from './store/keys.js';
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
  /** Sees every notification as it is announced (for embedding vigil, e.g. `vigil demo`). */
  readonly observe?: (event: NotifyEvent) => void;
  /** Where console notifiers write (stdout by default). */
  readonly out?: { write(text: string): unknown };
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
  private audit: AuditLog | undefined;
  private announcer: Announcer | undefined;
  private auditProblem: string | undefined;
  private scheduling: Promise<void> | undefined;
  private ticks: TickScheduler | undefined;
  private readonly shutdown = new AbortController();
  private status: StatusParts | undefined;
  private remediationQueue: Queue | undefined;

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
    this.startNotifiers();
    this.startRedis();
    await this.startPolicy();
    this.http = await startHttpServer(this.config.http, {
      logger: logger.child({ component: 'http' }),
      metrics: this.metrics,
      readiness: () => this.readinessChecks,
      ...(this.status ? { routes: this.status.routes } : {}),
    });
    this.cleanups.push('http', () => this.http?.close());
    this.startPipeline();
    logger.info({ url: this.http.url }, 'vigil started');
  }

  private notify(event: NotifyEvent): void {
    this.deps.observe?.(event);
    void this.announcer?.announce(event);
  }

  /** Notifiers from config; delivery runs in the background and is drained last at shutdown. */
  private startNotifiers(): void {
    const announcer = announcerFromConfig(this.config, {
      logger: this.deps.logger,
      clock: this.deps.clock,
      metrics: this.metrics,
      out: this.deps.out,
      queue: {
        redisUrl: this.config.redis.url,
        prefix: redisKeys(this.config.redis.key_prefix).bullmq,
        deliver: true,
      },
    });
    this.announcer = announcer;
    this.cleanups.push('notifications', async () => {
      await announcer.drain(Math.min(10_000, this.config.shutdown_grace));
      await announcer.stop();
    });
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
    this.status = createStatusParts(this.config, {
      redis,
      clock: this.deps.clock,
      logger: logger.child({ component: 'status' }),
      metrics: this.metrics,
      policy: () => this.policy?.current(),
      queue: () => this.remediationQueue,
    });
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

  /**
   * Collection starts once Redis answers (schedulers live there), not before: start() must not
   * block on Redis, so /healthz is up and /readyz can say why vigil is not ready yet.
   */
  private startPipeline(): void {
    const redis = this.redis;
    if (!redis || this.config.collectors.length === 0) return;
    const logger = this.deps.logger.child({ component: 'pipeline' });
    this.readinessChecks.push({
      name: 'scheduler',
      check: async () =>
        this.ticks ? this.ticks.problem : 'collector schedulers not started (waiting for Redis)',
    });
    const launch = (): void => {
      // Redis back after an outage: it may have come back empty, so put the schedulers back now.
      void this.ticks?.ensure();
      this.scheduling ??= this.launchPipeline(redis, logger).catch((error: unknown) => {
        logger.error({ error: errorMessage(error) }, 'pipeline start failed; retrying when Redis reconnects');
        this.scheduling = undefined;
      });
    };
    if (redis.status === 'ready') launch();
    redis.on('ready', launch);
  }

  private async launchPipeline(redis: Redis, logger: Logger): Promise<void> {
    const collection: Collection = assembleCollection(this.config, {
      logger,
      clock: this.deps.clock,
      metrics: this.metrics,
      redis,
      lease: true,
    });
    const counters = new CounterStore({
      redis,
      keys: redisKeys(this.config.redis.key_prefix),
      clock: this.deps.clock,
    });
    const audit = {
      append: async (record: AuditRecord) => {
        if (!this.audit) throw new PermanentError(`audit log unavailable: ${this.auditProblem}`);
        const entry = await this.audit.append(record);
        void this.status?.recorder.audited(entry);
        return entry;
      },
    };
    const announce = (event: NotifyEvent) => this.notify(event);
    const approvals = new ApprovalStore(redis, redisKeys(this.config.redis.key_prefix), this.deps.clock);
    const evidence = new EvidenceStore(redis, redisKeys(this.config.redis.key_prefix));
    const controls = new ControlStore(redis, redisKeys(this.config.redis.key_prefix), this.deps.clock);
    // Verification re-runs a collector through the very tick the scheduler runs (bound below).
    let tick: (collectorId: string, jobId: string) => Promise<TickReport> = () =>
      Promise.reject(new Error('collection not started'));
    const verification = {
      evidence,
      recollect: (id: string) => tick(id, `verify-${id}`),
      guards: (plan: RemediationPlan) => healthGuards(collection, plan),
    };
    const rebuild = this.watchCounters(redis, counters, logger);
    const remediation = this.policy
      ? this.startRemediation(collection, {
          counters,
          approvals,
          audit,
          announce,
          verification,
          controls,
          claimsBlocked: () => rebuild.problem,
        })
      : undefined;
    const decide = createPolicyStage({
      policy: () => this.policy?.current(),
      counters,
      clock: this.deps.clock,
      logger: logger.child({ component: 'policy-stage' }),
      metrics: this.metrics,
      audit,
      announce,
      stormThreshold: this.config.notify.storm_threshold,
      approvals,
      evidence,
      controls,
      ...(remediation
        ? {
            onDecisions: createDispatcher({
              queue: remediation.queue,
              audit,
              logger: logger.child({ component: 'dispatch' }),
            }),
          }
        : {}),
    });
    const policyStage = async (...args: Parameters<typeof decide>) => {
      await this.status?.recorder.findings(args[0]);
      await decide(...args);
    };
    this.remediationQueue = remediation?.queue.queue;
    const seenSeries = new Set<string>();
    const seriesExport = this.config.metrics.export_series
      ? new SeriesExport(this.metrics, { maxSeries: this.config.metrics.max_series })
      : undefined;
    const cache = createDetectionCache(this.config.history.cache_series, this.config.history.read_points);
    const byId = new Map(collection.collectors.map((collector) => [collector.id, collector]));
    const scheduler = new TickScheduler(
      {
        redisUrl: this.config.redis.url,
        prefix: redisKeys(this.config.redis.key_prefix).bullmq,
        concurrency: Math.min(8, byId.size),
      },
      logger.child({ component: 'scheduler' }),
    );
    this.cleanups.push('collection', () => collection.close());
    this.cleanups.push('scheduler', () => scheduler.stop());
    tick = async (collectorId, jobId) => {
      const collector = byId.get(collectorId);
      if (!collector) throw new PermanentError(`no collector ${collectorId} in this config`);
      return runTick(
        collector,
        {
          store: collection.store,
          bindings: collection.bindings,
          clock: this.deps.clock,
          logger: logger.child({ collector: collectorId, jobId }),
          metrics: this.metrics,
          readPoints: this.config.history.read_points,
          persist: true,
          cache,
          seenSeries,
          seriesExport,
          onFindings: (findings) => policyStage(findings, collectorId),
        },
        this.shutdown.signal,
      );
    };
    await scheduler.start(
      collection.collectors.map((collector) => {
        const entry = collection.entries.get(collector.id);
        return { id: collector.id, everyMs: entry?.interval ?? 60_000, cron: entry?.cron };
      }),
      async (collectorId, job) => {
        if (!byId.has(collectorId)) return;
        const report = await tick(collectorId, String(job.id));
        await this.status?.recorder.tick(collectorId, report.outcome, report.error);
        logger.debug(
          { collector: collectorId, jobId: job.id, outcome: report.outcome, samples: report.samples },
          'tick done',
        );
      },
    );
    this.ticks = scheduler;
    this.actOnGrants(redis, approvals, byId, tick, logger);
    logger.info({ collectors: [...byId.keys()] }, 'collector schedulers started');
  }

  /**
   * A human grant re-runs the tick of the collector that asked for it, so the approved plan is
   * decided (and re-checked by the worker) within a second, not at the next scheduled tick. Every
   * replica hears the grant; the collector's lease lets one of them run it, the others skip. A
   * grant published while this replica was disconnected is acted on at the next tick as before.
   */
  private actOnGrants(
    redis: Redis,
    approvals: ApprovalStore,
    collectors: ReadonlyMap<string, unknown>,
    tick: (collectorId: string, jobId: string) => Promise<TickReport>,
    logger: Logger,
  ): void {
    const channel = redisKeys(this.config.redis.key_prefix).approvalGranted;
    // Queued until connected; ioredis subscribes again by itself after every reconnect.
    const subscriber = redis.duplicate({ enableOfflineQueue: true });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, findingId: string) => {
      void (async () => {
        const grant = await approvals.granted(findingId);
        const collector = grant?.request.collector;
        if (!collector || !collectors.has(collector)) return;
        const report = await tick(collector, `approval-${findingId}`);
        logger.info({ findingId, collector, outcome: report.outcome }, 'approval grant acted on');
      })().catch((error: unknown) =>
        logger.warn({ findingId, error: errorMessage(error) }, 'approval grant not acted on at once'),
      );
    });
    void subscriber
      .subscribe(channel)
      .catch((error: unknown) =>
        logger.warn({ error: errorMessage(error) }, 'approval grants not subscribed (the next tick acts)'),
      );
    this.cleanups.push('approval-grants', async () => {
      subscriber.disconnect();
    });
  }

  /**
   * Policy counters rebuilt from this replica's audit log at start and each time Redis is back
   * (it may have come back empty); no remediation is claimed until that is done.
   */
  private watchCounters(redis: Redis, counters: CounterStore, logger: Logger): CounterRebuild {
    const rebuild = new CounterRebuild(
      {
        redis,
        keys: redisKeys(this.config.redis.key_prefix),
        counters,
        replica: this.config.replica_id,
        auditFile: this.audit?.file ?? '',
        now: () => this.deps.clock.now(),
      },
      (replayed) =>
        logger.warn({ replayed }, 'policy counters were missing in Redis; rebuilt from the audit log'),
      (error) =>
        logger.error({ error: errorMessage(error) }, 'policy counters not rebuilt; retrying on reconnect'),
    );
    void rebuild.run();
    redis.on('close', () => rebuild.lost());
    redis.on('ready', () => void rebuild.run());
    return rebuild;
  }

  /** The remediation worker of this replica (every replica runs one; BullMQ hands each job to one). */
  private startRemediation(
    collection: Collection,
    shared: {
      counters: CounterStore;
      approvals: ApprovalStore;
      audit: { append(record: AuditRecord): Promise<unknown> };
      announce: (event: NotifyEvent) => unknown;
      verification: VerificationDeps;
      controls: ControlStore;
      claimsBlocked: () => string | null;
    },
  ): RemediationWorker {
    const worker = new RemediationWorker(
      {
        redisUrl: this.config.redis.url,
        prefix: redisKeys(this.config.redis.key_prefix).bullmq,
        concurrency: this.config.remediations.concurrency,
        attempts: this.config.remediations.attempts,
        verifyAfterMs: this.config.remediations.verify_after,
        verifyAttempts: this.config.remediations.verify_attempts,
        callTimeoutMs: this.config.gcp.timeout,
        maxQueued: this.config.remediations.max_queued,
        backoffMs: this.config.remediations.backoff,
      },
      {
        policy: () => this.policy?.current(),
        ...shared,
        platform: collection.platform,
        clock: this.deps.clock,
        logger: this.deps.logger.child({ component: 'remediation-worker' }),
        metrics: this.metrics,
      },
    );
    worker.start();
    this.cleanups.push('remediation-worker', () => worker.stop());
    return worker;
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
    watcher.on('applied', (snapshot, previous) => {
      void this.status?.recorder.policy(snapshot, file, true);
      // A mode change (auto → off is the kill switch) is news for humans, whoever edited the file.
      if (previous && previous.mode !== snapshot.mode)
        this.notify({
          type: 'control',
          severity: 'info',
          action: 'mode-changed',
          text: `policy mode ${previous.mode} → ${snapshot.mode} (${file}, policy ${snapshot.hash.slice(0, 12)})`,
        });
    });
    watcher.on('rejected', (problems) => {
      lastProblem = problems[0] ?? 'invalid policy';
      void this.status?.recorder.policy(watcher.current(), file, false);
      this.notify({ type: 'policy-rejected', file, problems });
    });
    // An invalid policy at start leaves vigil alive but not ready; a valid edit makes it ready.
    await watcher.start();
    this.readinessChecks.push({
      name: 'policy',
      check: async () => (watcher.ready ? null : `policy ${file} not loaded: ${lastProblem}`),
    });
    this.cleanups.push('policy-watcher', () => watcher.stop());
    const heartbeat = setInterval(() => void this.status?.recorder.heartbeat(), REPLICA_HEARTBEAT_MS);
    heartbeat.unref();
    this.cleanups.push('status-heartbeat', async () => clearInterval(heartbeat));
    await this.startAudit();
  }

  /**
   * This replica's audit log, opened with the policy (decisions are what it records). A log
   * that cannot be opened, or whose chain does not verify, keeps vigil from becoming ready:
   * nothing may be decided unaudited.
   */
  private async startAudit(): Promise<void> {
    const logger = this.deps.logger.child({ component: 'audit' });
    const dir = join(resolve(this.config.data_dir), 'audit');
    try {
      const log = await AuditLog.open({ dir, replica: this.config.replica_id, clock: this.deps.clock });
      this.audit = log;
      this.cleanups.push('audit', () => log.close());
      logger.info({ file: log.file, entries: log.length }, 'audit log open');
    } catch (error) {
      this.auditProblem = errorMessage(error);
      logger.error({ error: this.auditProblem }, 'audit log unavailable');
    }
    this.readinessChecks.push({
      name: 'audit',
      check: async () => this.auditProblem ?? this.audit?.problem ?? null,
    });
  }

  private async doStop(): Promise<void> {
    const { logger } = this.deps;
    await this.starting?.catch(() => undefined);
    logger.info({ graceMs: this.config.shutdown_grace }, 'vigil stopping');
    await this.scheduling?.catch(() => undefined);
    // In-flight ticks may finish within the grace period; whatever is still running then is aborted.
    const abortAt = setTimeout(
      () => this.shutdown.abort(new Error('shutdown grace period over')),
      Math.max(0, this.config.shutdown_grace - 1_000),
    );
    abortAt.unref();
    try {
      await this.cleanups.runAll(this.config.shutdown_grace);
      clearTimeout(abortAt);
      logger.info('vigil stopped');
    } catch (error) {
      logger.error({ err: error }, 'vigil stopped with cleanup failures');
      throw error;
    }
  }
}

/** The http-probe collectors probing a redeployed service: its health after the change (rollback). */
function healthGuards(collection: Collection, plan: RemediationPlan): string[] {
  if (plan.kind !== 'redeploy-service') return [];
  return [...collection.entries].flatMap(([id, entry]) => {
    if (entry.kind !== 'http-probe') return [];
    const targets = (entry.options as { targets?: { labels?: Record<string, string> }[] }).targets ?? [];
    return targets.some((target) => target.labels?.service === plan.target) ? [id] : [];
  });
}

async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit();
    return;
  }
  // Not connected: quit() would wait for a connection that may never come.
  redis.disconnect();
}
