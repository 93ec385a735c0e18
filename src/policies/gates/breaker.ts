import { formatTime } from '../time.js';
import { NO_COUNTERS } from './cooldown.js';
import { type Gate, pass, skip, subject } from './types.js';

/** The fleet-wide "open until T" the worker stores in Redis when a breaker opens. */
export const breakerGate: Gate = {
  name: 'breaker',
  check(context) {
    const { counters, now } = context;
    const target = subject(context.candidate);
    if (!counters) return skip(`${NO_COUNTERS} for ${target}`);
    if (counters.breakerOpenUntil !== null && now < counters.breakerOpenUntil) {
      return skip(`breaker open for ${target} until ${formatTime(counters.breakerOpenUntil, now)}`);
    }
    return pass(`breaker closed for ${target}`);
  },
};
