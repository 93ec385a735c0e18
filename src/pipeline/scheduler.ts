import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { bullConnection } from '../store/redis.js';

/**
 * Schedules collector ticks with one BullMQ job scheduler per collector. Every replica upserts
 * the same schedulers; BullMQ hands each slot to exactly one replica's worker, so with N
 * replicas each tick runs once. Schedulers of collectors no longer in the config are removed.
 */
export interface ScheduledCollector {
  readonly id: string;
  /** Milliseconds between ticks, used unless `cron` is set. */
  readonly everyMs: number;
  readonly cron?: string;
}

export interface SchedulerSettings {
  readonly redisUrl: string;
  /** BullMQ key prefix, e.g. `vigil` (or `{vigil}` on Redis Cluster). */
  readonly prefix: string;
  /** Ticks processed at once by this replica (different collectors). */
  readonly concurrency: number;
}

export type TickHandler = (collectorId: string, job: { id: string; scheduledAt: number }) => Promise<void>;

const QUEUE = 'ticks';

/** How often every replica checks that the schedulers still exist (Redis may come back empty). */
export const SCHEDULER_CHECK_MS = 1_000;

export class TickScheduler {
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly connections: Redis[] = [];
  private collectors: readonly ScheduledCollector[] = [];
  private watch: NodeJS.Timeout | undefined;
  private checking = false;
  private checkStarted = 0;
  /** Why the schedulers are not known to be in Redis right now, or null when they are. */
  private missing: string | null = 'collector schedulers not started (waiting for Redis)';

  constructor(
    private readonly settings: SchedulerSettings,
    private readonly logger: Logger,
  ) {
    this.queue = new Queue(QUEUE, {
      connection: this.connection(),
      prefix: settings.prefix,
      defaultJobOptions: { removeOnComplete: { count: 200 }, removeOnFail: { count: 500 }, attempts: 1 },
    });
    this.queue.on('error', (error) => logger.warn({ error: error.message }, 'tick queue error'));
  }

  /** Upserts one scheduler per collector, drops stale ones, then starts processing. */
  async start(collectors: readonly ScheduledCollector[], handler: TickHandler): Promise<void> {
    this.collectors = collectors;
    for (const collector of collectors) await this.upsert(collector);
    const wanted = new Set(collectors.map((collector) => collector.id));
    for (const existing of await this.queue.getJobSchedulers()) {
      const id = existing.key;
      if (!wanted.has(id)) {
        await this.queue.removeJobScheduler(id);
        this.logger.info({ collector: id }, 'removed scheduler of a collector no longer configured');
      }
    }
    this.worker = new Worker(
      QUEUE,
      async (job: Job<{ collector: string }>) => {
        await handler(job.data.collector, { id: job.id ?? '', scheduledAt: job.timestamp });
      },
      { connection: this.connection(), prefix: this.settings.prefix, concurrency: this.settings.concurrency },
    );
    this.worker.on('error', (error) => this.logger.warn({ error: error.message }, 'tick worker error'));
    this.missing = null;
    this.watch = setInterval(() => void this.ensure(), SCHEDULER_CHECK_MS);
    this.watch.unref();
    this.worker.on('failed', (job, error) =>
      this.logger.warn(
        { jobId: job?.id, collector: job?.data.collector, error: error.message },
        'tick failed',
      ),
    );
  }

  /**
   * Why collection is not scheduled right now (null when it is): readiness reports it. A Redis
   * that restarted empty lost the schedulers; `ensure` puts them back within a check interval.
   */
  get problem(): string | null {
    // A check Redis does not answer (BullMQ's connections wait for a reconnect) says "unknown".
    if (this.checking && Date.now() - this.checkStarted > 2 * SCHEDULER_CHECK_MS)
      return 'collector schedulers cannot be checked in Redis (no answer)';
    return this.missing;
  }

  /**
   * Re-creates any scheduler Redis no longer has (it restarted empty, or a key was deleted).
   * Runs every `SCHEDULER_CHECK_MS` on every replica; upserting is idempotent, so replicas racing
   * here still leave one scheduler per collector.
   */
  async ensure(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    this.checkStarted = Date.now();
    try {
      const present = new Set((await this.queue.getJobSchedulers()).map((scheduler) => scheduler.key));
      const lost = this.collectors.filter((collector) => !present.has(collector.id));
      for (const collector of lost) await this.upsert(collector);
      if (lost.length > 0)
        this.logger.warn(
          { collectors: lost.map((c) => c.id) },
          'collector schedulers were missing in Redis; re-created',
        );
      this.missing = null;
    } catch (error) {
      this.missing = `collector schedulers cannot be checked in Redis: ${(error as Error).message}`;
    } finally {
      this.checking = false;
    }
  }

  private async upsert(collector: ScheduledCollector): Promise<void> {
    const repeat = collector.cron ? { pattern: collector.cron } : { every: collector.everyMs };
    await this.queue.upsertJobScheduler(collector.id, repeat, {
      name: 'tick',
      data: { collector: collector.id },
    });
  }

  /** Stops taking ticks, waits for running ones (the caller bounds this), closes connections. */
  async stop(): Promise<void> {
    clearInterval(this.watch);
    await this.worker?.close();
    await this.queue.close();
    for (const connection of this.connections) connection.disconnect();
  }

  private connection(): Redis {
    return bullConnection(this.settings.redisUrl, this.connections);
  }
}
