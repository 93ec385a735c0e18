import { pauseActive } from '../../controls/types.js';
import { formatTime } from '../time.js';
import { effectiveMode, type Gate, pass, skip } from './types.js';

/**
 * `vigil pause` (fleet-wide, in Redis) or `mode: off` anywhere (global, the remediation kind, the
 * rule) stops everything first.
 */
export const killSwitchGate: Gate = {
  name: 'kill-switch',
  check(context) {
    const { pause } = context.controls;
    if (pauseActive(pause, context.now)) {
      const until =
        pause.until === null ? 'until vigil resume' : `until ${formatTime(pause.until, context.now)}`;
      return skip(
        `vigil is paused by ${pause.by} since ${formatTime(pause.since, context.now)} ${until} (${oneSpace(pause.reason)})`,
      );
    }
    const { mode, source } = effectiveMode(context);
    if (mode !== 'off') return pass('not paused');
    if (source === 'mode') return skip('vigil is paused (mode: off)');
    return skip(`paused by ${source}: off`);
  },
};

function oneSpace(text: string): string {
  return text.replace(/\s+/g, ' ');
}
