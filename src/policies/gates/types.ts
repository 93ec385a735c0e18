import type { RuntimeControls } from '../../controls/types.js';
import type { Finding } from '../../core/types.js';
import type { Mode, RemediationSettings } from '../schema.js';
import type { Candidate, KindCounters, PolicySnapshot, TargetCounters } from '../types.js';

/** Fixed evaluation order; see docs/policy.md "Gates". */
export type GateName =
  | 'kill-switch'
  | 'override'
  | 'maintenance'
  | 'freeze'
  | 'hold'
  | 'approval'
  | 'cooldown'
  | 'rate-limit'
  | 'breaker'
  | 'failures'
  | 'mode';

export type GateOutcome = 'pass' | 'skip' | 'dry-run' | 'needs-approval' | 'notify-only';

export interface GateResult {
  readonly result: GateOutcome;
  /** One line, no newline; becomes the decision's reason when this gate decides. */
  readonly reason: string;
}

/** Everything a gate may look at. Gates are pure functions of this context. */
export interface GateContext {
  readonly finding: Finding;
  readonly candidate: Candidate;
  readonly settings: RemediationSettings;
  readonly snapshot: PolicySnapshot;
  readonly now: number;
  /** Undefined when the caller could not read them: counter-based gates then fail closed. */
  readonly counters: TargetCounters | undefined;
  readonly kindCounters: KindCounters | undefined;
  /** True when a human approved this remediation (`vigil approve`); the worker re-checks with it. */
  readonly approved: boolean;
  /** Run-time controls (pause, holds, silences, do-not-deploy memory), read from Redis with the counters. */
  readonly controls: RuntimeControls;
}

/**
 * One policy gate (Alertmanager's Muter idea). `check` is pure and total: it returns pass or the
 * decision it imposes, never throws. The first non-pass result in the fixed order decides.
 */
export interface Gate {
  readonly name: GateName;
  check(context: GateContext): GateResult;
}

export const pass = (reason: string): GateResult => ({ result: 'pass', reason });
export const skip = (reason: string): GateResult => ({ result: 'skip', reason });

/** `kind/target`, the name operators see for one remediation target in every reason. */
export function subject(candidate: Candidate): string {
  return `${candidate.kind}/${candidate.target}`;
}

const RESTRICTION: Readonly<Record<Mode, number>> = { auto: 0, 'dry-run': 1, 'notify-only': 2, off: 3 };

/** The most restrictive mode among the global mode, the kind's mode and the rule's mode. */
export function effectiveMode(context: GateContext): { mode: Mode; source: string } {
  const { snapshot, settings, candidate } = context;
  const sources: { mode: Mode; source: string }[] = [
    { mode: snapshot.mode, source: 'mode' },
    { mode: settings.mode, source: `remediations.${candidate.kind}.mode` },
  ];
  if (candidate.rule.mode)
    sources.push({ mode: candidate.rule.mode, source: `rules[${candidate.rule.index}].mode` });
  let strictest = sources[0] as { mode: Mode; source: string };
  for (const entry of sources) if (RESTRICTION[entry.mode] > RESTRICTION[strictest.mode]) strictest = entry;
  return strictest;
}
