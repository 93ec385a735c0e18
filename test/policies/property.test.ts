import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Finding, seriesKey } from '../../src/core/types.js';
import { evaluate } from '../../src/policies/evaluate.js';
import { loadPolicy, parsePolicy } from '../../src/policies/load.js';
import type { Counters, TargetCounters } from '../../src/policies/types.js';

const EXAMPLE = readFileSync('examples/policy.nba-props.yaml', 'utf8');
const LOCATED = /^policy\.yaml:\d+ /;

/** Either a snapshot or a non-empty list of located one-line problems; never a throw. */
function expectClearOutcome(text: string): void {
  const result = parsePolicy(text, 'policy.yaml');
  if (result.ok) return;
  expect(result.problems.length).toBeGreaterThan(0);
  for (const problem of result.problems) {
    expect(problem).toMatch(LOCATED);
    expect(problem).not.toContain('\n');
  }
}

const policyishKeys = fc.constantFrom(
  'mode',
  'remediations',
  'rules',
  'overrides',
  'maintenance_windows',
  'do_not_deploy',
  'redeploy-service',
  'run-job',
  'id',
  'match',
  'metric',
  'labels',
  'action',
  'kind',
  'params',
  'effect',
  'ends_at',
  'starts_at',
  'cron',
  'duration',
  'cooldown',
  'continue',
);
const policyish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(
      'auto',
      'off',
      'dry-run',
      '1h',
      '0 2 * * *',
      '{{labels.service}}',
      'x=~"("',
      '2026-02-03T00:00:00Z',
    ),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(policyishKeys, fc.string()), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('loader properties', () => {
  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), expectClearOutcome), {
      numRuns: 300,
    });
  });

  it('never throws on random YAML documents shaped like policies', () => {
    fc.assert(
      fc.property(policyish, (value) => expectClearOutcome(stringify(value))),
      { numRuns: 500 },
    );
  });

  it('never throws on the example truncated at any point (a half-written file)', () => {
    fc.assert(
      fc.property(fc.nat({ max: EXAMPLE.length }), (cut) => expectClearOutcome(EXAMPLE.slice(0, cut))),
      { numRuns: 300 },
    );
  });
});

const snapshot = loadPolicy(EXAMPLE, 'policy.yaml');
const metrics = fc.constantFrom(...snapshot.rules.map((rule) => rule.metric), 'other');
const times = fc.oneof(
  fc.integer({ min: Date.parse('2025-01-01'), max: Date.parse('2027-01-01') }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 8.64e15),
);
const labels = fc.dictionary(
  fc.constantFrom('service', 'model', 'main_commit', 'env'),
  fc.oneof(fc.string(), fc.constantFrom('nba-phase4-precompute-processors', '8cb96558', 'nba-grading')),
);
const findings: fc.Arbitrary<Finding> = fc
  .record({
    metric: metrics,
    labels,
    timestamp: times,
    since: times,
    value: fc.double(),
    state: fc.constantFrom('raised', 'ongoing', 'cleared'),
    severity: fc.constantFrom('ok', 'warning', 'critical', 'insufficient-history'),
    detector: fc.constantFrom('threshold', 'zscore'),
  })
  .map((f) => ({
    id: 'f',
    series: seriesKey(f.metric, f.labels),
    metric: f.metric,
    labels: f.labels,
    timestamp: f.timestamp,
    since: f.since,
    value: f.value,
    state: f.state,
    verdict: {
      detector: f.detector,
      anomalous: true,
      severity: f.severity,
      score: 1,
      statistic: null,
      baseline: null,
      reason: 'r',
    },
  }));
const targetCounters: fc.Arbitrary<TargetCounters> = fc.record({
  lastRunAt: fc.option(times),
  runsLastHour: fc.nat(10),
  runsLastDay: fc.nat(50),
  consecutiveFailures: fc.nat(5),
  breakerOpenUntil: fc.option(times),
});
const counters: fc.Arbitrary<Counters> = fc.record({
  targets: fc.dictionary(
    fc.constantFrom(
      'redeploy-service|nba-phase4-precompute-processors',
      'run-job|grading-backfill',
      'restart-service|nba-grading',
    ),
    targetCounters,
  ),
  kinds: fc.dictionary(
    fc.constantFrom('redeploy-service', 'run-job', 'restart-service'),
    fc.record({ runsLastHour: fc.nat(10), runsLastDay: fc.nat(50) }),
  ),
});

describe('evaluate properties', () => {
  it('is total: any finding, time and counters give at least one one-line decision', () => {
    fc.assert(
      fc.property(findings, times, counters, fc.boolean(), (f, now, c, approved) => {
        const decisions = evaluate(f, snapshot, now, c, { approved });

        expect(decisions.length).toBeGreaterThan(0);
        for (const decision of decisions) {
          expect(['act', 'dry-run', 'needs-approval', 'notify-only', 'skip']).toContain(decision.action);
          expect(decision.reason).not.toMatch(/[\r\n]/);
          expect(decision.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(findings, times, counters, (f, now, c) => {
        expect(evaluate(f, snapshot, now, c)).toEqual(evaluate(f, snapshot, now, c));
      }),
      { numRuns: 200 },
    );
  });
});
