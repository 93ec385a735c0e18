import type { Config } from '../../config.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { MetricsRegistry } from '../../core/metrics.js';
import { notifierRegistry } from '../index.js';
import { type Announcer, createAnnouncer } from './announce.js';
import { NOTIFY_QUEUE_DEFAULTS, NotificationQueue } from './queue.js';

/** The config's notifiers behind one announcer: the daemon's, and a command's that announces a change. */
export function announcerFromConfig(
  config: Pick<Config, 'notifiers'>,
  deps: {
    readonly logger: Logger;
    readonly clock: Clock;
    readonly metrics: MetricsRegistry;
    readonly out?: { write(text: string): unknown } | undefined;
    /** Queue `queued` notifiers' messages in Redis (BullMQ); `deliver` also runs this process's worker. */
    readonly queue?:
      | { readonly redisUrl: string; readonly prefix: string; readonly deliver: boolean }
      | undefined;
  },
): Announcer & { stop(): Promise<void> } {
  const notifiers = config.notifiers.map((entry, index) => {
    const definition = notifierRegistry.get(entry.kind);
    const id = entry.id ?? `${entry.kind}-${index}`;
    return definition.create(definition.options.parse(entry.options), {
      id,
      logger: deps.logger.child({ component: `notifier.${entry.kind}::${id}` }),
      clock: deps.clock,
      ...(deps.out ? { out: deps.out } : {}),
    });
  });
  let queue: NotificationQueue | undefined;
  const announcer = createAnnouncer(notifiers, {
    logger: deps.logger.child({ component: 'notify' }),
    metrics: deps.metrics,
    ...(deps.queue && notifiers.some((notifier) => notifier.queued)
      ? {
          queue: (outcomes) => {
            queue = new NotificationQueue(
              {
                ...NOTIFY_QUEUE_DEFAULTS,
                redisUrl: deps.queue?.redisUrl ?? '',
                prefix: deps.queue?.prefix ?? '',
              },
              {
                notifiers: new Map(notifiers.map((notifier) => [notifier.id, notifier])),
                logger: deps.logger.child({ component: 'notify-queue' }),
                outcomes,
              },
            );
            if (deps.queue?.deliver) queue.start();
            return queue;
          },
        }
      : {}),
  });
  return { ...announcer, stop: async () => queue?.stop() };
}
