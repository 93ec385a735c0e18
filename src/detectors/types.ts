import type { PluginDefinition } from '../core/plugin.js';
import type { Verdict } from '../core/types.js';

/**
 * The history a detector judges a point against, as parallel typed arrays (the shape the
 * history store reads from Redis). Timestamps are epoch ms in ascending order and all lie
 * before the evaluated point; entries at or after it are ignored. A value of NaN or ±Infinity
 * marks a missing point: it is skipped and counted, never averaged in.
 */
export interface SeriesHistory {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /**
   * Baseline hygiene: 1 marks a point an earlier evaluation flagged as anomalous. Detectors
   * leave flagged points out of their baselines; omit the mask (the binding does so when
   * `exclude_anomalies_from_baseline: false`) to use every finite point.
   */
  readonly anomalous?: Uint8Array;
}

/** The point being judged. A non-finite value yields an `insufficient-history` verdict. */
export interface EvaluatedPoint {
  readonly timestamp: number;
  readonly value: number;
}

/** What `create` receives besides the options: the metric name, used in reasons and units. */
export interface DetectorDeps {
  readonly metric: string;
}

/**
 * One configured detector. `evaluate` is synchronous, pure and deterministic: no I/O, no clock,
 * no state carried between calls (scratch buffers are reused but never change a result). It is
 * called once per series per tick, possibly for thousands of series in a row.
 */
export interface Detector {
  readonly kind: string;
  /** Usable points needed before the detector judges; fewer gives `insufficient-history`. */
  readonly minHistory: number;
  evaluate(history: SeriesHistory, point: EvaluatedPoint): Verdict;
  /**
   * Optional: a stateful evaluator for ONE append-only series judged point after point (the
   * backtest). Each call's history must extend the previous call's (entries already seen keep
   * their values). It returns exactly the verdicts `evaluate` would, but may keep order
   * statistics between calls instead of recomputing them from the whole window.
   */
  stream?(): Detector;
}

/** A detector kind: `{ kind, summary, options (strict zod with defaults), create }`. */
export type DetectorDefinition<Options> = PluginDefinition<Options, Detector, DetectorDeps>;
