import { z } from 'zod';
import { duration } from '../../core/duration.js';
import type { FindingState, Verdict } from '../../core/types.js';

/**
 * Hysteresis options: raise after `k` of the last `n` evaluations breach; clear after `m`
 * consecutive normal ones; once raised, a series is not raised again for `expiry` (a re-breach
 * inside it reopens the same episode as `ongoing`, so flapping never pages twice).
 */
export const hysteresisOptions = z
  .strictObject({
    k: z.number().int().min(1).default(1),
    n: z.number().int().min(1).default(1),
    m: z.number().int().min(1).default(2),
    expiry: duration.prefault('3h'),
  })
  .refine((options) => options.k <= options.n, { path: ['k'], message: 'k must be <= n' });

export type HysteresisOptions = z.infer<typeof hysteresisOptions>;

/** Per-series hysteresis state; plain JSON so the tick can persist it in Redis between ticks. */
export interface HysteresisState {
  /** True between a raise and its clear. */
  readonly active: boolean;
  /** The last `n` judged evaluations, oldest first: the breaching point's timestamp, or null. */
  readonly recent: readonly (number | null)[];
  /** Consecutive normal evaluations while active. */
  readonly normalStreak: number;
  /** First breaching timestamp of the current (or last) episode. */
  readonly since: number | null;
  /** When the series was last raised; drives `expiry`. */
  readonly raisedAt: number | null;
}

export interface HysteresisStep {
  readonly state: HysteresisState;
  /** What this evaluation changed: a new finding, a still-open one, a cleared one, or nothing. */
  readonly transition: FindingState | null;
}

export const initialHysteresisState: HysteresisState = {
  active: false,
  recent: [],
  normalStreak: 0,
  since: null,
  raisedAt: null,
};

/**
 * One hysteresis step for one series. Pure: returns a new state. An `insufficient-history`
 * verdict is neutral: it neither breaches nor counts as normal, so missing data never clears
 * (or raises) a finding.
 */
export function hysteresisStep(
  previous: HysteresisState | undefined,
  verdict: Verdict,
  timestamp: number,
  options: HysteresisOptions,
): HysteresisStep {
  const state = previous ?? initialHysteresisState;
  if (verdict.severity === 'insufficient-history') {
    return { state, transition: state.active ? 'ongoing' : null };
  }
  const breach = verdict.anomalous;
  // The common case, a quiet series staying quiet: the next state equals this one, so reuse it
  // (a tick or a backtest steps every series on every point; this path allocates nothing new).
  if (!breach && !state.active && isQuiet(state.recent, options.n)) return { state, transition: null };
  const recent = [...state.recent, breach ? timestamp : null].slice(-options.n);
  if (state.active) return activeStep(state, recent, breach, options);
  const breaches = recent.filter((entry) => entry !== null) as number[];
  if (breaches.length < options.k) return { state: { ...state, recent }, transition: null };
  const since = breaches[0] as number;
  const withinExpiry = state.raisedAt !== null && timestamp - state.raisedAt < options.expiry;
  if (withinExpiry) {
    // Flapping: reopen the episode that was raised recently instead of paging again.
    return {
      state: { active: true, recent, normalStreak: 0, since: state.since ?? since, raisedAt: state.raisedAt },
      transition: 'ongoing',
    };
  }
  return {
    state: { active: true, recent, normalStreak: 0, since, raisedAt: timestamp },
    transition: 'raised',
  };
}

function activeStep(
  state: HysteresisState,
  recent: (number | null)[],
  breach: boolean,
  options: HysteresisOptions,
): HysteresisStep {
  if (breach) return { state: { ...state, recent, normalStreak: 0 }, transition: 'ongoing' };
  const normalStreak = state.normalStreak + 1;
  if (normalStreak < options.m) return { state: { ...state, recent, normalStreak }, transition: 'ongoing' };
  return { state: { ...state, active: false, recent: [], normalStreak: 0 }, transition: 'cleared' };
}

/** True when `recent` holds exactly `n` entries and none is a breach. */
function isQuiet(recent: readonly (number | null)[], n: number): boolean {
  if (recent.length !== n) return false;
  for (let i = 0; i < n; i++) if (recent[i] !== null) return false;
  return true;
}
