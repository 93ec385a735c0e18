import { effectiveMode, type Gate, pass, skip } from './types.js';

/** `mode: off` anywhere (global, the remediation kind, the rule) stops everything first. */
export const killSwitchGate: Gate = {
  name: 'kill-switch',
  check(context) {
    const { mode, source } = effectiveMode(context);
    if (mode !== 'off') return pass('not paused');
    if (source === 'mode') return skip('vigil is paused (mode: off)');
    return skip(`paused by ${source}: off`);
  },
};
