import { approvalGate } from './approval.js';
import { breakerGate } from './breaker.js';
import { cooldownGate } from './cooldown.js';
import { failuresGate } from './failures.js';
import { freezeGate } from './freeze.js';
import { holdGate } from './hold.js';
import { killSwitchGate } from './kill-switch.js';
import { maintenanceGate } from './maintenance.js';
import { modeGate } from './mode.js';
import { overrideGate } from './override.js';
import { rateLimitGate } from './rate-limit.js';
import type { Gate } from './types.js';

/**
 * The fixed gate order. Human intent first (kill switch, override, maintenance, freeze, hold,
 * approval), then the safety counters (cooldown, rate limit, breaker, failures), then the mode
 * cap, so dry-run reflects every other gate. The first non-pass result decides.
 */
export const GATES: readonly Gate[] = [
  killSwitchGate,
  overrideGate,
  maintenanceGate,
  freezeGate,
  holdGate,
  approvalGate,
  cooldownGate,
  rateLimitGate,
  breakerGate,
  failuresGate,
  modeGate,
];
