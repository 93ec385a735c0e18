import { effectiveMode, type Gate, pass, subject } from './types.js';

/**
 * Last gate: the strictest of the global, kind and rule modes caps an otherwise permitted run,
 * so a dry-run says exactly what auto would have done at this moment.
 */
export const modeGate: Gate = {
  name: 'mode',
  check(context) {
    const { mode, source } = effectiveMode(context);
    const target = subject(context.candidate);
    if (mode === 'dry-run') return { result: 'dry-run', reason: `would run ${target} (${source}: dry-run)` };
    if (mode === 'notify-only')
      return { result: 'notify-only', reason: `${target} notify-only (${source}: notify-only)` };
    return pass(`mode auto`);
  },
};
