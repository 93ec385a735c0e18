import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { bullConnection } from '../../store/redis.js';
import { type Notifier, NotifyError, type NotifyEvent } from '../types.js';

/**
 * Notifications that leave the process (Slack) go through their own BullMQ queue, never the
 * remediation queue: enqueueing is bounded in time and size (a full queue drops the message and
 * counts it), delivery is retried a bounded number of times with backoff, a `429` waits out its
 * `Retry-After` (the queue is rate limited; the attempt is not spent), and a message that cannot
 * be delivered is logged and counted — never reported through the notifier that failed. Any
 * replica's worker delivers: job data is the event and the notifier's id, and every replica builds
 * the same notifiers from the same config.
 */
export const NOTIFY_QUEUE = 'notifications';

/** Bounds of the notification queue: 1,000 waiting, 5 attempts from 2 s apart, 5 s to enqueue. */
export const NOTIFY_QUEUE_DEFAULTS = {
  maxQueued: 1_000,
  attempts: 5,
  backoffMs: 2_000,
  addTimeoutMs: 5_000,
} as const;

export interface NotificationQueueSettings {
  readonly redisUrl: string;
  /** BullMQ prefix (RedisKeys.bullmq). */
  readonly prefix: string;
  /** Messages waiting at most; beyond, a message is dropped (and counted). */
  readonly maxQueued: number;
  readonly attempts: number;
  readonly backoffMs: number;
  /** Bounds `add` (BullMQ does not fail fast while Redis is away). */
  readonly addTimeoutMs: number;
}

interface NotifyJob {
  readonly notifier: string;
  readonly event: NotifyEvent;
}

export class NotificationQueue {
  private readonly queue: Queue<NotifyJob>;
  private worker: Worker<NotifyJob> | undefined;
  private readonly connections: Redis[] = [];

  constructor(
    private readonly settings: NotificationQueueSettings,
    private readonly deps: {
      readonly notifiers: ReadonlyMap<string, Notifier>;
      readonly logger: Logger;
      readonly outcomes: Counter<'notifier' | 'outcome'>;
    },
  ) {
    this.queue = new Queue<NotifyJob>(NOTIFY_QUEUE, {
      connection: bullConnection(settings.redisUrl, this.connections),
      prefix: settings.prefix,
      defaultJobOptions: {
        attempts: settings.attempts,
        backoff: { type: 'exponential', delay: settings.backoffMs },
        removeOnComplete: { count: 1_000 },
        removeOnFail: { count: 1_000 },
      },
    });
    this.queue.on('error', (error) => deps.logger.warn({ error: error.message }, 'notification queue error'));
  }

  /** Queues one message for one notifier; resolves once it is queued, dropped or refused (never throws). */
  async enqueue(notifier: string, event: NotifyEvent): Promise<'queued' | 'dropped'> {
    try {
      const queued = await this.bounded(this.queue.getJobCountByTypes('waiting', 'delayed', 'prioritized'));
      if (queued >= this.settings.maxQueued)
        return this.drop(notifier, event, `${queued} messages already waiting`);
      await this.bounded(this.queue.add('notify', { notifier, event }));
      return 'queued';
    } catch (error) {
      return this.drop(notifier, event, errorMessage(error));
    }
  }

  /** Starts this replica's delivery worker (the daemon does; one-shot commands only enqueue). */
  start(): void {
    if (this.worker) return;
    this.worker = new Worker<NotifyJob>(NOTIFY_QUEUE, (job) => this.deliver(job), {
      connection: bullConnection(this.settings.redisUrl, this.connections),
      prefix: this.settings.prefix,
      concurrency: 2,
    });
    this.worker.on('error', (error) =>
      this.deps.logger.warn({ error: error.message }, 'notification worker error'),
    );
    this.worker.on('failed', (job, error) => {
      if (!job || error.name === 'RateLimitError') return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError;
      if (!final) return;
      this.deps.outcomes.inc({ notifier: job.data.notifier, outcome: 'failed' });
      this.deps.logger.warn(
        { notifier: job.data.notifier, jobId: job.id, error: error.message, attempts: job.attemptsMade },
        'notification not delivered',
      );
    });
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    for (const connection of this.connections) connection.disconnect();
  }

  private async deliver(job: Job<NotifyJob>): Promise<void> {
    const notifier = this.deps.notifiers.get(job.data.notifier);
    if (!notifier) throw new UnrecoverableError(`no notifier ${job.data.notifier} in this replica's config`);
    try {
      await notifier.notify(job.data.event, AbortSignal.timeout(60_000));
      this.deps.outcomes.inc({ notifier: notifier.id, outcome: 'delivered' });
    } catch (error) {
      if (error instanceof NotifyError && error.retryAfterMs !== undefined && this.worker) {
        // Slack said when: the whole queue waits it out and this attempt is not spent.
        await this.worker.rateLimit(error.retryAfterMs);
        throw Worker.RateLimitError();
      }
      if (error instanceof NotifyError && !error.retryable) throw new UnrecoverableError(error.message);
      throw error;
    }
  }

  private drop(notifier: string, event: NotifyEvent, reason: string): 'dropped' {
    this.deps.outcomes.inc({ notifier, outcome: 'dropped' });
    this.deps.logger.warn({ notifier, event: event.type, reason }, 'notification dropped');
    return 'dropped';
  }

  private bounded<T>(work: Promise<T>): Promise<T> {
    return Promise.race([
      work,
      new Promise<never>((_, reject) => {
        setTimeout(
          () => reject(new Error('notification queue did not answer in time')),
          this.settings.addTimeoutMs,
        ).unref();
      }),
    ]);
  }
}
