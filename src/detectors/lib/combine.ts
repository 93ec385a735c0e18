import { z } from 'zod';
import type { Severity, Verdict } from '../../core/types.js';
import { plainVerdict } from './verdict.js';

/** How several detectors on one series combine: any one, all of them, or more than half. */
export const combineMode = z.enum(['any', 'all', 'majority']);
export type CombineMode = z.infer<typeof combineMode>;

const RANK: Record<Severity, number> = { 'insufficient-history': 0, ok: 1, warning: 2, critical: 3 };

/** Strongest first: by severity, then score. */
function stronger(a: Verdict, b: Verdict): number {
  return RANK[b.severity] - RANK[a.severity] || b.score - a.score;
}

/**
 * Combines verdicts of one point into one. The result is one of the inputs (its statistic,
 * baseline and reason), picked so that it is anomalous exactly when the mode says so:
 * `any` → the strongest; `all` → the weakest (an `insufficient-history` member blocks it);
 * `majority` → the ⌊L/2⌋-th strongest of L, anomalous iff more than half are.
 * Only when every member lacks history is the result `insufficient-history`.
 */
export function combineVerdicts(verdicts: readonly Verdict[], mode: CombineMode): Verdict {
  if (verdicts.length === 0) throw new Error('combineVerdicts needs at least one verdict');
  if (verdicts.length === 1) return verdicts[0] as Verdict;
  const sorted = [...verdicts].sort(stronger);
  const judged = sorted.filter((verdict) => verdict.severity !== 'insufficient-history');
  const name = `${mode}(${verdicts.map((verdict) => verdict.detector).join(',')})`;
  if (judged.length === 0) return { ...plainVerdict(sorted[0] as Verdict), detector: name };
  const pick =
    mode === 'any'
      ? (sorted[0] as Verdict)
      : mode === 'all'
        ? (sorted[sorted.length - 1] as Verdict)
        : (sorted[sorted.length >> 1] as Verdict);
  // A blocked `all`/`majority` whose pick is insufficient still reports the judged evidence.
  const chosen = pick.severity === 'insufficient-history' ? (judged[judged.length - 1] as Verdict) : pick;
  const agreeing = verdicts.filter((verdict) => verdict.anomalous).length;
  const anomalous = pick.anomalous;
  return {
    ...plainVerdict(chosen),
    detector: name,
    anomalous,
    severity: anomalous ? chosen.severity : chosen.anomalous ? 'ok' : chosen.severity,
    score: anomalous ? chosen.score : Math.min(chosen.score, pick.score),
    reason: `${chosen.reason} [${agreeing} of ${verdicts.length} detectors flag it, ${mode}]`,
  };
}
