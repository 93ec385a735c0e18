import { formatDuration } from '../../core/duration.js';
import { formatTime } from '../time.js';
import { type Gate, pass, skip, subject } from './types.js';

export const NO_COUNTERS = 'counters unavailable (Redis?)';

/** At most one run per target per `cooldown`, counted from the last run's start. */
export const cooldownGate: Gate = {
  name: 'cooldown',
  check(context) {
    const { counters, settings, now } = context;
    const target = subject(context.candidate);
    if (!counters) return skip(`${NO_COUNTERS} for ${target}`);
    if (counters.lastRunAt === null) return pass(`no remembered run of ${target}`);
    const until = counters.lastRunAt + settings.cooldown;
    if (now < until) {
      return skip(
        `cooldown for ${target} until ${formatTime(until, now)} (last run ${formatTime(counters.lastRunAt, now)})`,
      );
    }
    return pass(
      `cooldown ${formatDuration(settings.cooldown)} elapsed since ${formatTime(counters.lastRunAt, now)}`,
    );
  },
};
