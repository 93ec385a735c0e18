import { z } from 'zod';
import type { Baseline, Verdict } from '../../core/types.js';
import type { EvaluatedPoint, SeriesHistory } from '../types.js';
import { describeWindow, isPercent } from './format.js';
import {
  type Direction,
  direction,
  flooredSpread,
  minHistory,
  positive,
  type SpreadFloor,
  spreadFloorOptions,
  type Unit,
  unit,
  type WindowSpec,
  windowOption,
} from './options.js';
import { insufficientVerdict, missingPointVerdict, zVerdict } from './verdict.js';
import type { IndexRange, MeanStd, WindowCounts } from './window.js';

/** Options every z-family kind shares (zscore, robust-zscore, and the seasonal fallback). */
export const zFamilyShape = {
  window: windowOption.prefault(200),
  threshold: positive(3),
  critical_threshold: positive(5),
  direction: direction.default('both'),
  min_history: minHistory(10),
  unit: unit.default('auto'),
  ...spreadFloorOptions,
};

export interface ZFamilyOptions extends SpreadFloor {
  readonly window: WindowSpec;
  readonly threshold: number;
  readonly critical_threshold: number;
  readonly direction: Direction;
  readonly min_history: number;
  readonly unit: Unit;
}

/** `critical_threshold` below `threshold` would make warnings unreachable: reject it at load. */
export function thresholdsOrdered(options: { threshold: number; critical_threshold: number }): boolean {
  return options.critical_threshold >= options.threshold;
}

export const thresholdsOrderedIssue = {
  path: ['critical_threshold'],
  message: 'critical_threshold must be >= threshold',
};

export const zFamilyOptions = z.strictObject(zFamilyShape).refine(thresholdsOrdered, thresholdsOrderedIssue);

/** A location-and-scale estimate over one window; the kind decides which estimator. */
export interface CenterSpread extends WindowCounts {
  center: number;
  spread: number;
}

/** Computes center/spread over `[range.start, range.end)`, honouring the mask or not. */
export type Estimator = (history: SeriesHistory, range: IndexRange, honourMask: boolean) => CenterSpread;

export interface ZFamilyContext {
  readonly kind: string;
  readonly metric: string;
  readonly centerName: string;
  readonly options: ZFamilyOptions;
  readonly range: IndexRange;
  readonly estimate: Estimator;
  /** Seasonal reference text, when the baseline is seasonal. */
  readonly seasonalReference?: string;
  readonly note?: string;
  /** Overrides the window adjective (seasonal baselines describe their phase instead). */
  readonly windowText?: string;
  /** Precomputed isPercent(metric, unit); computed per call when absent. */
  readonly percent?: boolean;
}

/** Copies a mean/std pass into the z-family's center/spread record (`out`, reused per call). */
export function fromMeanStd(stats: MeanStd, out: CenterSpread): CenterSpread {
  out.n = stats.n;
  out.skipped = stats.skipped;
  out.excluded = stats.excluded;
  out.center = stats.mean;
  out.spread = stats.std;
  return out;
}

/** A baseline after hygiene, with the note to add to the reason when flagged points came back. */
export interface HygienicBaseline {
  readonly stats: CenterSpread;
  readonly note: string | undefined;
}

/**
 * Baseline hygiene: flagged points stay out, so a long incident does not become the new normal;
 * they are readmitted only when leaving them out would starve the window below `minHistory`,
 * which means the anomaly has lasted most of a window and is, by now, the normal level.
 */
export function hygienicEstimate(
  estimate: Estimator,
  history: SeriesHistory,
  range: IndexRange,
  minHistory: number,
): HygienicBaseline {
  const stats = estimate(history, range, true);
  if (stats.n >= minHistory || stats.excluded === 0) return { stats, note: undefined };
  const flagged = stats.excluded;
  const all = estimate(history, range, false);
  if (all.n < minHistory) return { stats: all, note: undefined };
  return {
    stats: all,
    note: `${flagged} flagged points readmitted: the anomaly has lasted most of the window`,
  };
}

/** Joins optional reason clauses. */
export function joinNotes(...notes: (string | undefined)[]): string | undefined {
  const present = notes.filter((note): note is string => note !== undefined && note !== '');
  return present.length > 0 ? present.join('; ') : undefined;
}

/** The Baseline record of a z-family verdict. */
export function baselineOf(
  stats: CenterSpread,
  spread: number,
  window: string,
  seasonalReference?: string,
): Baseline {
  // Two literals rather than a conditional spread: one allocation, a stable shape per branch.
  if (seasonalReference === undefined) {
    return {
      center: stats.center,
      spread,
      n: stats.n,
      window,
      skipped: stats.skipped,
      excluded: stats.excluded,
    };
  }
  return {
    center: stats.center,
    spread,
    n: stats.n,
    window,
    seasonalReference,
    skipped: stats.skipped,
    excluded: stats.excluded,
  };
}

/** The shared judgement: hygienic baseline, floored spread, z, verdict. `range` must hold the window. */
export function judgeWindow(history: SeriesHistory, point: EvaluatedPoint, ctx: ZFamilyContext): Verdict {
  const { options } = ctx;
  if (!Number.isFinite(point.value)) return missingPointVerdict(ctx.kind, ctx.metric);
  const needed = Math.max(1, options.min_history);
  // hygienicEstimate's first step inline, so the usual case allocates no wrapper object.
  let stats = ctx.estimate(history, ctx.range, true);
  let note: string | undefined;
  if (stats.n < needed && stats.excluded !== 0)
    ({ stats, note } = hygienicEstimate(ctx.estimate, history, ctx.range, needed));
  if (stats.n < needed) return insufficientVerdict(ctx.kind, ctx.metric, stats.n, needed, stats);
  const spread = flooredSpread(stats.spread, stats.center, options);
  return zVerdict({
    detector: ctx.kind,
    metric: ctx.metric,
    percent: ctx.percent ?? isPercent(ctx.metric, options.unit),
    value: point.value,
    z: (point.value - stats.center) / spread,
    direction: options.direction,
    warning: options.threshold,
    critical: options.critical_threshold,
    baseline: baselineOf(
      stats,
      spread,
      // A window not yet full is described by what it holds: "28-point", not the configured 200.
      'points' in options.window && stats.n < options.window.points
        ? `${stats.n}-point`
        : (ctx.windowText ?? describeWindow(options.window)),
      ctx.seasonalReference,
    ),
    centerName: ctx.centerName,
    note: note === undefined ? ctx.note : joinNotes(ctx.note, note),
  });
}
