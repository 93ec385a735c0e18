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

export class TickScheduler {
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly connections: Redis[] = [];

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
    for (const collector of collectors) {
      const repeat = collector.cron ? { pattern: collector.cron } : { every: collector.everyMs };
      await this.queue.upsertJobScheduler(collector.id, repeat, {
        name: 'tick',
        data: { collector: collector.id },
      });
    }
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
    this.worker.on('failed', (job, error) =>
      this.logger.warn(
        { jobId: job?.id, collector: job?.data.collector, error: error.message },
        'tick failed',
      ),
    );
  }

  /** Stops taking ticks, waits for running ones (the caller bounds this), closes connections. */
  async stop(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    for (const connection of this.connections) connection.disconnect();
  }

  private connection(): Redis {
    return bullConnection(this.settings.redisUrl, this.connections);
  }
}
