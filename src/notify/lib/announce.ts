import type { Counter } from 'prom-client';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { counter, type MetricsRegistry } from '../../core/metrics.js';
import type { Notifier, NotifyEvent } from '../types.js';

/**
 * Fans an event out to every notifier in the background. The caller never waits on Slack: each
 * notifier bounds its own attempts, at most `maxInFlight` deliveries are pending (beyond that an
 * event is dropped, logged and counted), and `drain` lets shutdown wait for what is in flight.
 */
export interface Announcer {
  /** Starts delivery and returns at once; the promise settles when every notifier is done (for tests and drain). */
  announce(event: NotifyEvent): Promise<void>;
  /** Waits for in-flight deliveries, at most `deadlineMs`. */
  drain(deadlineMs: number): Promise<void>;
}

export function createAnnouncer(
  notifiers: readonly Notifier[],
  deps: {
    readonly logger: Logger;
    readonly metrics: MetricsRegistry;
    readonly maxInFlight?: number;
    /** Where `queued` notifiers' messages go (BullMQ); without it they are delivered in process. */
    readonly queue?: (outcomes: Counter<'notifier' | 'outcome'>) => {
      enqueue(notifier: string, event: NotifyEvent): Promise<unknown>;
    };
  },
): Announcer {
  const outcomes = counter(deps.metrics, {
    name: 'vigil_notifications_total',
    help: 'Notifications by notifier and outcome (delivered, failed, dropped)',
    labelNames: ['notifier', 'outcome'] as const,
  });
  const maxInFlight = deps.maxInFlight ?? 100;
  const queue = deps.queue?.(outcomes);
  const inFlight = new Set<Promise<void>>();
  const shutdown = new AbortController();

  const deliver = async (notifier: Notifier, event: NotifyEvent): Promise<void> => {
    if (notifier.queued && queue) {
      await queue.enqueue(notifier.id, event);
      return;
    }
    try {
      await notifier.notify(event, shutdown.signal);
      outcomes.inc({ notifier: notifier.id, outcome: 'delivered' });
    } catch (error) {
      outcomes.inc({ notifier: notifier.id, outcome: 'failed' });
      deps.logger.warn(
        { notifier: notifier.id, ...subject(event), error: errorMessage(error) },
        'notification not delivered',
      );
    }
  };

  return {
    announce(event) {
      if (notifiers.length === 0) return Promise.resolve();
      if (inFlight.size >= maxInFlight) {
        for (const notifier of notifiers) outcomes.inc({ notifier: notifier.id, outcome: 'dropped' });
        deps.logger.warn(
          { ...subject(event), inFlight: inFlight.size },
          'notification dropped: too many in flight',
        );
        return Promise.resolve();
      }
      const delivery = Promise.all(notifiers.map((notifier) => deliver(notifier, event))).then(
        () => undefined,
      );
      inFlight.add(delivery);
      void delivery.finally(() => inFlight.delete(delivery));
      return delivery;
    },
    async drain(deadlineMs) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          shutdown.abort(new Error('shutting down'));
          resolve();
        }, deadlineMs);
      });
      await Promise.race([Promise.allSettled([...inFlight]), deadline]);
      clearTimeout(timer);
    },
  };
}

/** What a log line about an event needs to be found again. */
function subject(event: NotifyEvent): Record<string, string> {
  if (event.type === 'finding')
    return { event: event.type, findingId: event.finding.id, state: event.finding.state };
  if (event.type === 'remediation')
    return { event: event.type, findingId: event.findingId, stage: event.stage };
  if (event.type === 'control') return { event: event.type, action: event.action };
  if (event.type === 'storm') return { event: event.type, total: String(event.total) };
  return { event: event.type, file: event.file };
}
