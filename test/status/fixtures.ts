import { type AuditRecord, sealEntry } from '../../src/audit/chain.js';
import type { AuditEntry, Finding } from '../../src/core/types.js';

/** A critical coverage finding as the tick hands it on. */
export function coverageFinding(state: Finding['state'] = 'raised', at = 1_770_000_000_000): Finding {
  return {
    id: 'f-coverage',
    series: 'vegas_line_coverage',
    metric: 'vegas_line_coverage',
    labels: {},
    timestamp: at,
    value: 44.6,
    state,
    since: at,
    verdict: {
      detector: 'robust-zscore',
      anomalous: state !== 'cleared',
      severity: state === 'cleared' ? 'ok' : 'critical',
      score: 0.99,
      statistic: -161,
      baseline: { center: 92.4, spread: 0.297, n: 28, window: '28-point' },
      reason: 'vegas_line_coverage 44.6% is 161σ below its 28-point median 92.4%',
    },
  };
}

/** Audit entries of one chain, sealed as the audit log seals them. */
export function chain(records: readonly (AuditRecord & { time: number })[]): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (const { time, ...record } of records)
    entries.push(sealEntry(record, entries.at(-1), time, { type: 'vigil', replica: 'r1' }));
  return entries;
}

export const REDEPLOY_PLAN = {
  kind: 'redeploy-service',
  target: 'nba-phase4',
  description: 'redeploy nba-phase4 at main 53222d63',
};
