import type { Config } from '../../config.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { MetricsRegistry } from '../../core/metrics.js';
import { notifierRegistry } from '../index.js';
import { type Announcer, createAnnouncer } from './announce.js';

/** The config's notifiers behind one announcer: the daemon's, and a command's that announces a change. */
export function announcerFromConfig(
  config: Pick<Config, 'notifiers'>,
  deps: {
    readonly logger: Logger;
    readonly clock: Clock;
    readonly metrics: MetricsRegistry;
    readonly out?: { write(text: string): unknown } | undefined;
  },
): Announcer {
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
  return createAnnouncer(notifiers, {
    logger: deps.logger.child({ component: 'notify' }),
    metrics: deps.metrics,
  });
}
