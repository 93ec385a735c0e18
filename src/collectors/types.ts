import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { PluginDefinition } from '../core/plugin.js';
import type { Labels, Sample } from '../core/types.js';
import type { GitMirrors } from '../platform/git.js';
import type { BigQueryAdapter, CloudRunAdapter } from '../platform/index.js';

/**
 * What a collector is handed for one run. The signal aborts at the collector's timeout or at
 * shutdown; a collector passes it to every I/O call so nothing outlives its tick.
 */
export interface CollectContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** Kinds of per-target problems; each is counted in `vigil_data_quality_problems_total{kind}`. */
export type ProblemKind =
  | 'null-value'
  | 'non-numeric'
  | 'no-data'
  | 'target-failed'
  | 'unknown-commit'
  | 'bad-row';

/** A problem with one target or row; it never hides the other targets' samples. */
export interface CollectProblem {
  readonly kind: ProblemKind;
  /** Which target, row or series it concerns, for an operator to find it. */
  readonly target: string;
  readonly message: string;
}

/**
 * A state of a series that is not a number: `no-data` (the latest expected partition is empty:
 * late data, neither healthy nor 0%), `error` (the value could not be determined), `pinned`
 * (a human pinned traffic to an older revision on purpose: not drift).
 */
export interface SeriesStatus {
  readonly metric: string;
  readonly labels: Labels;
  readonly status: 'no-data' | 'error' | 'pinned';
  readonly reason: string;
}

export interface CollectResult {
  readonly samples: readonly Sample[];
  readonly problems: readonly CollectProblem[];
  readonly statuses: readonly SeriesStatus[];
}

/**
 * A configured collector instance. The runner never calls `collect` twice at once on one
 * instance. It throws only when the whole collection failed, as TransientError (retry next
 * tick) or PermanentError (configuration or permissions: fix needed).
 */
export interface Collector {
  collect(ctx: CollectContext): Promise<CollectResult>;
  /** Metric names this instance emits, known from its options (for `vigil once` and policy checks). */
  readonly metrics: readonly string[];
  close?(): Promise<void>;
}

/** Platform access handed to collectors; clients are created lazily so `create` stays offline. */
export interface CollectorDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly platform: PlatformAccess;
  readonly git: GitMirrors;
}

/** Lazily built Google clients (see src/platform). Collectors that do not need them never build them. */
export interface PlatformAccess {
  readonly bigquery: () => BigQueryAdapter;
  readonly cloudRun: () => CloudRunAdapter;
}

export type CollectorDefinition<Options> = PluginDefinition<Options, Collector, CollectorDeps>;
