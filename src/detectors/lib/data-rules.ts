import { z } from 'zod';
import type { Verdict } from '../../core/types.js';
import { plainVerdict } from './verdict.js';

/**
 * Data-metric rules a binding applies on top of its detectors' verdict (what dbt/Elementary
 * anomaly tests call `ignore_small_changes` and `fail_on_zero`).
 */

/** `min_change: 5%` or `0.05`: a relative change from the baseline below which nothing is anomalous. */
export const minChange = z.union([z.number(), z.string()]).transform((raw, ctx): number => {
  const text = typeof raw === 'number' ? undefined : raw.trim();
  const value = text === undefined ? raw : text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number.NaN;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  ctx.addIssue({
    code: 'custom',
    message: `expected a fraction like 0.05 or a percentage like 5%, got ${JSON.stringify(raw)}`,
  });
  return z.NEVER;
});

export interface DataRules {
  /** Relative change floor (fraction of |baseline center|); 0 = off. */
  readonly minChange: number;
  /** A value of exactly 0 is critical whatever the detectors say. */
  readonly failOnZero: boolean;
}

/**
 * Applies the rules to one combined verdict. `fail_on_zero` makes a 0 critical (score at least
 * 0.75, the critical band's start). `min_change`: a verdict whose change from its baseline is below
 * the floor is ok, its score capped into [0, 0.5) by how much of the floor the change reaches
 * (every verdict below the floor, anomalous or not, so the score stays monotone in the change): a 0.3-point σ cannot make a 1-point
 * wobble of a 95% metric an alert.
 */
export function applyDataRules(verdict: Verdict, value: number, rules: DataRules): Verdict {
  if (rules.failOnZero && value === 0) {
    if (verdict.severity === 'critical') return verdict;
    return {
      ...plainVerdict(verdict),
      anomalous: true,
      severity: 'critical',
      score: Math.max(verdict.score, 0.75),
      reason: `${verdict.reason}; the value is 0 (fail_on_zero)`,
    };
  }
  if (rules.minChange > 0 && verdict.baseline && verdict.severity !== 'insufficient-history') {
    const { center } = verdict.baseline;
    const change = Math.abs(value - center);
    const floor = rules.minChange * Math.abs(center);
    if (change < floor) {
      const percent = Math.round(rules.minChange * 1000) / 10;
      const score = Math.min(verdict.score, 0.5 * (change / floor));
      if (!verdict.anomalous && score === verdict.score) return verdict;
      return {
        ...plainVerdict(verdict),
        anomalous: false,
        severity: 'ok',
        score,
        reason: verdict.anomalous
          ? `${verdict.reason}; but the change is below min_change (${percent}% of the baseline): not anomalous`
          : verdict.reason,
      };
    }
  }
  return verdict;
}
