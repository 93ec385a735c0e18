import { NO_COUNTERS } from './cooldown.js';
import { type Gate, pass, skip, subject } from './types.js';

/** Sliding-window caps per target and per kind; a cap of 0 forbids automatic runs entirely. */
export const rateLimitGate: Gate = {
  name: 'rate-limit',
  check(context) {
    const { counters, kindCounters, settings, candidate } = context;
    const target = subject(candidate);
    if (!counters || !kindCounters) return skip(`${NO_COUNTERS} for ${target}`);
    const limits = [
      {
        used: counters.runsLastHour,
        max: settings.max_per_hour.target,
        key: 'max_per_hour.target',
        what: `${target} ran`,
        window: 'hour',
      },
      {
        used: counters.runsLastDay,
        max: settings.max_per_day.target,
        key: 'max_per_day.target',
        what: `${target} ran`,
        window: 'day',
      },
      {
        used: kindCounters.runsLastHour,
        max: settings.max_per_hour.global,
        key: 'max_per_hour.global',
        what: `${candidate.kind} ran`,
        window: 'hour',
      },
      {
        used: kindCounters.runsLastDay,
        max: settings.max_per_day.global,
        key: 'max_per_day.global',
        what: `${candidate.kind} ran`,
        window: 'day',
      },
    ];
    for (const limit of limits) {
      if (limit.used >= limit.max) {
        return skip(
          `rate limit: ${limit.what} ${limit.used} time(s) in the last ${limit.window} (remediations.${candidate.kind}.${limit.key}: ${limit.max})`,
        );
      }
    }
    return pass(
      `${counters.runsLastHour}/${settings.max_per_hour.target} this hour, ${counters.runsLastDay}/${settings.max_per_day.target} today`,
    );
  },
};
