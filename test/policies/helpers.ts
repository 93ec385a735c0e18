import { type Finding, seriesKey } from '../../src/core/types.js';
import { candidatesFor } from '../../src/policies/evaluate.js';
import { loadPolicy } from '../../src/policies/load.js';
import {
  type Counters,
  counterKey,
  type PolicySnapshot,
  type TargetCounters,
  ZERO_KIND_COUNTERS,
  ZERO_TARGET_COUNTERS,
} from '../../src/policies/types.js';

/** Strips the common indentation so inline YAML fixtures can be indented with the test code. */
export function yaml(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(
    ...lines.filter((line) => line.trim() !== '').map((line) => /^ */.exec(line)?.[0].length ?? 0),
  );
  return lines.map((line) => line.slice(indent)).join('\n');
}

export function policyOf(text: string, file = 'policy.yaml'): PolicySnapshot {
  return loadPolicy(yaml(text), file);
}

export const at = (iso: string): number => Date.parse(iso);

export function finding(
  overrides: Partial<Finding> & { severity?: Finding['verdict']['severity'] } = {},
): Finding {
  const { severity = 'critical', ...rest } = overrides;
  const metric = rest.metric ?? 'deploy_drift_commits_behind';
  const labels = rest.labels ?? { service: 'nba-phase4', main_commit: '6f195068' };
  return {
    id: 'f-1',
    series: seriesKey(metric, labels),
    metric,
    labels,
    timestamp: at('2026-02-03T13:55:00Z'),
    value: 598,
    state: 'raised',
    since: at('2026-02-03T13:00:00Z'),
    verdict: {
      detector: 'threshold',
      anomalous: true,
      severity,
      score: 1,
      statistic: null,
      baseline: null,
      reason: 'drift',
    },
    ...rest,
  };
}

/** Counters for every candidate of the finding: zero unless a target entry is given. */
export function countersFor(
  f: Finding,
  snapshot: PolicySnapshot,
  target: Partial<TargetCounters> = {},
  kind: Partial<typeof ZERO_KIND_COUNTERS> = {},
): Counters {
  const targets: Record<string, TargetCounters> = {};
  const kinds: Record<string, typeof ZERO_KIND_COUNTERS> = {};
  for (const candidate of candidatesFor(f, snapshot)) {
    targets[counterKey(candidate.kind, candidate.target)] = { ...ZERO_TARGET_COUNTERS, ...target };
    kinds[candidate.kind] = { ...ZERO_KIND_COUNTERS, ...kind };
  }
  return { targets, kinds };
}

/** Redeploy a drifted service, automatically: the policy of the policy-stage and Slack tests. */
export const DRIFT_POLICY = policyOf(`
  mode: auto
  remediations: { redeploy-service: { mode: auto } }
  rules:
    - id: drift
      match: { metric: deploy_drift_commits_behind }
      action: { kind: redeploy-service, params: { service: '{{labels.service}}' } }
`);
