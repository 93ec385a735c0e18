import { NO_COUNTERS } from './cooldown.js';
import { type Gate, pass, skip, subject } from './types.js';

/** After `max_consecutive_failures` in a row vigil stops acting on the target until a human resets it. */
export const failuresGate: Gate = {
  name: 'failures',
  check(context) {
    const { counters, settings, candidate } = context;
    const target = subject(candidate);
    if (!counters) return skip(`${NO_COUNTERS} for ${target}`);
    const max = settings.max_consecutive_failures;
    if (counters.consecutiveFailures >= max) {
      return skip(
        `${target} failed ${counters.consecutiveFailures} times in a row (remediations.${candidate.kind}.max_consecutive_failures: ${max}): stopped, escalated to a human`,
      );
    }
    return pass(`${counters.consecutiveFailures} consecutive failure(s) of ${target}, max ${max}`);
  },
};
