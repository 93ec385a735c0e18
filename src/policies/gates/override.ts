import type { Silence } from '../../controls/types.js';
import { matchesAll } from '../matchers.js';
import { formatTime } from '../time.js';
import type { Candidate, CompiledOverride, OverrideState } from '../types.js';
import { effectiveMode, type Gate, type GateContext, type GateResult, pass, skip, subject } from './types.js';

/** Pending before `starts_at`, active in [starts_at, ends_at), expired from `ends_at` on. */
export function overrideState(override: CompiledOverride, now: number): OverrideState {
  if (override.startsAt !== null && now < override.startsAt) return 'pending';
  return now < override.endsAt ? 'active' : 'expired';
}

export function overrideSelects(
  override: CompiledOverride,
  candidate: Candidate,
  context: GateContext,
): boolean {
  if (override.remediation !== undefined && override.remediation !== candidate.kind) return false;
  if (override.target !== undefined && override.target !== candidate.target) return false;
  return matchesAll(override.labels, context.finding.labels);
}

/**
 * Manual overrides, shaped like Alertmanager silences. The loader rejects contradicting
 * overlaps, so all active overrides selecting one remediation share one effect.
 */
export const overrideGate: Gate = {
  name: 'override',
  check(context) {
    const selecting = [...context.snapshot.overrides, ...context.controls.silences.map(asOverride)].filter(
      (o) => overrideSelects(o, context.candidate, context),
    );
    const active = selecting.find((o) => overrideState(o, context.now) === 'active');
    if (active) return applyOverride(active, context);
    // Expired or pending overrides are named, not silently ignored.
    const other = selecting[0];
    if (!other) return pass('no override selects this remediation');
    const state = overrideState(other, context.now);
    const when =
      state === 'expired'
        ? `expired at ${formatTime(other.endsAt, context.now)}`
        : `starts at ${formatTime(other.startsAt ?? 0, context.now)}`;
    return pass(`override ${other.id} ${when}`);
  },
};

/** A run-time silence (`vigil silence add`) is an override with effect `off`. */
export function asOverride(silence: Silence): CompiledOverride {
  return {
    id: `silence ${silence.id}`,
    line: 0,
    remediation: silence.kind,
    target: silence.target,
    labels: [],
    effect: 'off',
    startsAt: silence.startsAt,
    endsAt: silence.endsAt,
    createdBy: silence.createdBy,
    reason: silence.reason,
  };
}

function applyOverride(override: CompiledOverride, context: GateContext): GateResult {
  const who = `override ${override.id} by ${override.createdBy} until ${formatTime(override.endsAt, context.now)}`;
  const why = `(${override.reason.replace(/\s+/g, ' ')})`;
  const target = subject(context.candidate);
  // An override can only tighten: a stricter mode elsewhere still wins.
  const mode = effectiveMode(context);
  if (override.effect !== 'off' && mode.mode === 'notify-only') {
    return { result: 'notify-only', reason: `${target} notify-only (${mode.source}); also ${who} ${why}` };
  }
  if (override.effect === 'requires-approval' && mode.mode === 'dry-run') {
    return pass(`${who} requires approval, not needed in dry-run`);
  }
  switch (override.effect) {
    case 'off':
      return skip(`${target} is off: ${who} ${why}`);
    case 'dry-run':
      return { result: 'dry-run', reason: `would run ${target}; dry-run: ${who} ${why}` };
    case 'notify-only':
      return { result: 'notify-only', reason: `${target} notify-only: ${who} ${why}` };
    case 'requires-approval':
      if (context.approved) return pass(`${who} requires approval: approved`);
      return { result: 'needs-approval', reason: `${target} needs approval: ${who} ${why}` };
  }
}
