import { CronExpressionParser } from 'cron-parser';
import { formatDuration } from '../../core/duration.js';
import { formatTime } from '../time.js';
import type { CompiledWindow } from '../types.js';
import { type Gate, pass, skip } from './types.js';

/**
 * The start of the window occurrence containing `now`, or null when `now` is outside it.
 * A window is open in [fire time, fire time + duration). A cron that cannot be evaluated
 * (it was validated at load, so this is defensive) counts as open: fail closed.
 */
export function windowOpenedAt(window: CompiledWindow, now: number): number | null {
  try {
    // prev() is strictly before currentDate; +1 ms makes a window open exactly at its fire time.
    const expression = CronExpressionParser.parse(window.cron, { tz: window.timezone, currentDate: now + 1 });
    const opened = expression.prev().getTime();
    return now < opened + window.durationMs ? opened : null;
  } catch {
    return now;
  }
}

/** Inside a maintenance window nothing runs automatically. */
export const maintenanceGate: Gate = {
  name: 'maintenance',
  check(context) {
    for (const window of context.snapshot.maintenanceWindows) {
      if (window.remediations && !window.remediations.includes(context.candidate.kind)) continue;
      const opened = windowOpenedAt(window, context.now);
      if (opened === null) continue;
      const until = formatTime(opened + window.durationMs, context.now);
      return skip(
        `maintenance window ${window.name} until ${until} UTC (${window.cron} ${window.timezone}, ${formatDuration(window.durationMs)})`,
      );
    }
    return pass('outside every maintenance window');
  },
};
