import type { Matcher } from './matchers.js';
import {
  DEFAULT_REMEDIATION_SETTINGS,
  type Mode,
  type OverrideEffect,
  type PolicyFile,
  type RemediationSettings,
} from './schema.js';
import type { Template } from './templates.js';

/** A rule after compilation: matchers parsed, templates compiled, location kept for messages. */
export interface CompiledRule {
  readonly id: string;
  readonly index: number;
  readonly metric: string;
  readonly labels: readonly Matcher[];
  readonly severity: readonly string[] | undefined;
  readonly detector: readonly string[] | undefined;
  readonly state: readonly string[];
  readonly minDurationMs: number;
  readonly kind: string;
  readonly params: Readonly<Record<string, Template>>;
  readonly mode: Mode | undefined;
  readonly continue: boolean;
}

export interface CompiledOverride {
  readonly id: string;
  readonly line: number;
  readonly remediation: string | undefined;
  readonly target: string | undefined;
  readonly labels: readonly Matcher[];
  readonly effect: OverrideEffect;
  /** Null means active from the moment it is loaded. */
  readonly startsAt: number | null;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly reason: string;
}

export type OverrideState = 'pending' | 'active' | 'expired';

export interface CompiledWindow {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly durationMs: number;
  /** Undefined means every remediation kind. */
  readonly remediations: readonly string[] | undefined;
}

/**
 * A fully validated, compiled and frozen policy. The watcher swaps one reference to a snapshot,
 * so a reader always sees one whole policy, never a mix of two files.
 */
export interface PolicySnapshot {
  readonly file: string;
  /** sha256 of the file's bytes, hex; logged, exported as a metric and audited with decisions. */
  readonly hash: string;
  readonly mode: Mode;
  /** Settings for every known kind, defaults filled in for kinds the file does not list. */
  readonly remediations: Readonly<Record<string, RemediationSettings>>;
  readonly rules: readonly CompiledRule[];
  readonly overrides: readonly CompiledOverride[];
  readonly maintenanceWindows: readonly CompiledWindow[];
  readonly doNotDeploy: PolicyFile['do_not_deploy'];
  /** The validated file as written (snake_case keys, defaults applied). */
  readonly source: PolicyFile;
}

/** Redis-held state of one (remediation kind, target), read before evaluation. */
export interface TargetCounters {
  /** Epoch ms of the last run, or null when none is remembered. */
  readonly lastRunAt: number | null;
  readonly runsLastHour: number;
  readonly runsLastDay: number;
  readonly consecutiveFailures: number;
  /** Epoch ms until which the breaker for this kind and target is open, or null. */
  readonly breakerOpenUntil: number | null;
}

/** Runs of one kind across all targets. */
export interface KindCounters {
  readonly runsLastHour: number;
  readonly runsLastDay: number;
}

/**
 * Everything `evaluate` needs from Redis, as plain data so evaluation stays pure. `targets` is
 * keyed by `counterKey(kind, target)`. A missing entry means "unknown" and fails closed (skip).
 */
export interface Counters {
  readonly targets: Readonly<Record<string, TargetCounters>>;
  readonly kinds: Readonly<Record<string, KindCounters>>;
}

/**
 * The settings of `kind` in `snapshot` (every known kind is filled in at compile time); the schema's
 * defaults when there is no snapshot or the kind is unknown, so callers never re-default a field.
 */
export function settingsOf(snapshot: PolicySnapshot | undefined, kind: string): RemediationSettings {
  return snapshot?.remediations[kind] ?? DEFAULT_REMEDIATION_SETTINGS;
}

export function counterKey(kind: string, target: string): string {
  return `${kind}|${target}`;
}

export const ZERO_TARGET_COUNTERS: TargetCounters = Object.freeze({
  lastRunAt: null,
  runsLastHour: 0,
  runsLastDay: 0,
  consecutiveFailures: 0,
  breakerOpenUntil: null,
});

export const ZERO_KIND_COUNTERS: KindCounters = Object.freeze({ runsLastHour: 0, runsLastDay: 0 });

/** What a rule asks for, rendered for one finding: the unit that counters and gates work on. */
export interface Candidate {
  readonly rule: CompiledRule;
  readonly kind: string;
  readonly target: string;
  readonly params: Readonly<Record<string, string>>;
}
