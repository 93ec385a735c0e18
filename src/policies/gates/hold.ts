import { formatTime } from '../time.js';
import { counterKey } from '../types.js';
import { type Gate, pass, skip, subject } from './types.js';

/**
 * A hold on (kind, target): vigil placed it when a run was ineffective or the failure streak
 * reached `max_consecutive_failures`, and nothing runs automatically there until it expires or a
 * human clears it (`vigil hold clear`).
 */
export const holdGate: Gate = {
  name: 'hold',
  check(context) {
    const { candidate, now } = context;
    const hold = context.controls.holds[counterKey(candidate.kind, candidate.target)];
    const target = subject(candidate);
    if (!hold || now >= hold.until) return pass(`no hold on ${target}`);
    return skip(
      `held since ${formatTime(hold.since, now)} because ${hold.reason.replace(/\s+/g, ' ')} (by ${hold.by}, until ${formatTime(hold.until, now)}; vigil hold clear ${candidate.kind} ${candidate.target} --as NAME --reason TEXT)`,
    );
  },
};
