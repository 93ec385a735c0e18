import { describe, expect, it } from 'vitest';
import { NO_CONTROLS, type RuntimeControls } from '../../src/controls/types.js';
import { ManualClock } from '../../src/core/clock.js';
import { evaluate, formatDecision } from '../../src/policies/evaluate.js';
import type { TargetCounters } from '../../src/policies/types.js';
import { at, countersFor, finding, policyOf, yaml } from './helpers.js';

type Condition =
  | 'kill'
  | 'override'
  | 'maintenance'
  | 'freeze'
  | 'hold'
  | 'approval'
  | 'cooldown'
  | 'rate'
  | 'breaker'
  | 'failures'
  | 'dry-run';

const NOW = at('2026-02-03T14:00:00Z');

function policyWith(conditions: ReadonlySet<Condition>) {
  const mode = conditions.has('kill') ? 'off' : conditions.has('dry-run') ? 'dry-run' : 'auto';
  let text = yaml(`
    mode: ${mode}
    remediations:
      redeploy-service:
        mode: auto
        cooldown: 1h
        requires_approval: ${conditions.has('approval')}
        max_per_hour: { target: 2, global: 3 }
        max_per_day: { target: 3, global: 5 }
        max_consecutive_failures: 2
    rules:
      - id: redeploy-drifted
        match: { metric: deploy_drift_commits_behind, severity: [critical] }
        action: { kind: redeploy-service, params: { service: '{{labels.service}}' } }
  `);
  if (conditions.has('override')) {
    text += yaml(`
      overrides:
        - id: hands-off
          match: { remediation: redeploy-service, target: nba-phase4 }
          effect: 'off'
          starts_at: 2026-02-03T12:00:00Z
          ends_at: 2026-02-03T18:00:00Z
          created_by: alice
          reason: investigating
    `);
  }
  if (conditions.has('maintenance')) {
    text += yaml(`
      maintenance_windows:
        - { name: nightly, cron: '0 13 * * *', duration: 2h }
    `);
  }
  if (conditions.has('freeze')) {
    text += yaml(`
      do_not_deploy:
        - { service: nba-phase4, commit: 6f195068aa, created_by: bob, reason: rolled back }
    `);
  }
  return policyOf(text);
}

function countersWith(conditions: ReadonlySet<Condition>): Partial<TargetCounters> {
  return {
    ...(conditions.has('cooldown') ? { lastRunAt: at('2026-02-03T13:05:00Z') } : {}),
    ...(conditions.has('rate') ? { runsLastHour: 2 } : {}),
    ...(conditions.has('breaker') ? { breakerOpenUntil: at('2026-02-03T14:30:00Z') } : {}),
    ...(conditions.has('failures') ? { consecutiveFailures: 2 } : {}),
  };
}

/** Run-time controls in Redis: a hold vigil placed on the target after an ineffective run. */
function controlsWith(conditions: ReadonlySet<Condition>): RuntimeControls {
  if (!conditions.has('hold')) return NO_CONTROLS;
  const hold = {
    kind: 'redeploy-service',
    target: 'nba-phase4',
    since: at('2026-02-03T13:30:00Z'),
    until: at('2026-02-04T13:30:00Z'),
    by: 'vigil',
    reason: 'the redeploy did not fix deploy_drift_commits_behind',
  };
  return { ...NO_CONTROLS, holds: { 'redeploy-service|nba-phase4': hold } };
}

function decide(conditions: Condition[], options: { approved?: boolean } = {}) {
  const set = new Set(conditions);
  const snapshot = policyWith(set);
  const f = finding();
  return evaluate(f, snapshot, NOW, countersFor(f, snapshot, countersWith(set)), {
    ...options,
    controls: controlsWith(set),
  });
}

const ORDER: [Condition, string][] = [
  ['kill', 'kill-switch'],
  ['override', 'override'],
  ['maintenance', 'maintenance'],
  ['freeze', 'freeze'],
  ['hold', 'hold'],
  ['approval', 'approval'],
  ['cooldown', 'cooldown'],
  ['rate', 'rate-limit'],
  ['breaker', 'breaker'],
  ['failures', 'failures'],
  ['dry-run', 'mode'],
];

describe('evaluate: each gate alone', () => {
  it.each<[Condition | 'none', string]>([
    ['none', 'act: run redeploy-service/nba-phase4: every gate passed [rule redeploy-drifted]'],
    ['kill', 'skip: vigil is paused (mode: off) [rule redeploy-drifted]'],
    [
      'override',
      'skip: redeploy-service/nba-phase4 is off: override hands-off by alice until 18:00 (investigating) [rule redeploy-drifted]',
    ],
    [
      'maintenance',
      'skip: maintenance window nightly until 15:00 UTC (0 13 * * * UTC, 2h) [rule redeploy-drifted]',
    ],
    [
      'freeze',
      'skip: deploy freeze: nba-phase4 must not roll to 6f195068aa (do_not_deploy by bob: rolled back) [rule redeploy-drifted]',
    ],
    [
      'hold',
      'skip: held since 13:30 because the redeploy did not fix deploy_drift_commits_behind (by vigil, until 2026-02-04 13:30; vigil hold clear redeploy-service nba-phase4 --as NAME --reason TEXT) [rule redeploy-drifted]',
    ],
    [
      'approval',
      'needs-approval: redeploy-service/nba-phase4 requires approval (remediations.redeploy-service.requires_approval) [rule redeploy-drifted]',
    ],
    [
      'cooldown',
      'skip: cooldown for redeploy-service/nba-phase4 until 14:05 (last run 13:05) [rule redeploy-drifted]',
    ],
    [
      'rate',
      'skip: rate limit: redeploy-service/nba-phase4 ran 2 time(s) in the last hour (remediations.redeploy-service.max_per_hour.target: 2) [rule redeploy-drifted]',
    ],
    ['breaker', 'skip: breaker open for redeploy-service/nba-phase4 until 14:30 [rule redeploy-drifted]'],
    [
      'failures',
      'skip: redeploy-service/nba-phase4 failed 2 times in a row (remediations.redeploy-service.max_consecutive_failures: 2): stopped, escalated to a human [rule redeploy-drifted]',
    ],
    ['dry-run', 'dry-run: would run redeploy-service/nba-phase4 (mode: dry-run) [rule redeploy-drifted]'],
  ])('%s → %s', (condition, expected) => {
    const decisions = decide(condition === 'none' ? [] : [condition]);

    expect(decisions.map(formatDecision)).toEqual([expected]);
  });

  it('returns the rendered params, the target and the full gate trail when acting', () => {
    const [decision] = decide([]);

    expect(decision?.params).toEqual({ service: 'nba-phase4' });
    expect(decision?.target).toBe('nba-phase4');
    expect(decision?.gates?.map((entry) => `${entry.gate} ${entry.result}`)).toEqual(
      ORDER.map(([, gate]) => `${gate} pass`),
    );
  });
});

describe('evaluate: gate order', () => {
  it.each(ORDER.map(([, gate], index) => [gate, index] as const))(
    'with every condition from %s on, that gate decides',
    (gate, index) => {
      // dry-run is left out above the mode gate: in dry-run mode approval is deliberately not asked.
      const later = ORDER.slice(index).map(([condition]) => condition);
      const active = gate === 'mode' ? later : later.filter((condition) => condition !== 'dry-run');

      const [decision] = decide(active);

      expect(decision?.gates?.at(-1)?.gate).toBe(gate);
      expect(decision?.gates?.slice(0, -1).every((entry) => entry.result === 'pass')).toBe(true);
    },
  );
});

describe('evaluate: approvals and modes', () => {
  it('acts once a human approved', () => {
    expect(decide(['approval'], { approved: true }).map((d) => d.action)).toEqual(['act']);
  });

  it('does not ask for approval when the run would only be simulated', () => {
    expect(decide(['approval', 'dry-run']).map((d) => d.action)).toEqual(['dry-run']);
  });

  it('takes the strictest of the global, kind and rule modes', () => {
    const snapshot = policyOf(`
      mode: auto
      remediations: { redeploy-service: { mode: dry-run } }
      rules:
        - id: r
          match: { metric: deploy_drift_commits_behind }
          action: { kind: redeploy-service, params: { service: '{{labels.service}}' } }
          mode: notify-only
    `);
    const f = finding();

    const decisions = evaluate(f, snapshot, NOW, countersFor(f, snapshot));

    expect(decisions.map(formatDecision)).toEqual([
      'notify-only: redeploy-service/nba-phase4 notify-only (rules[0].mode: notify-only) [rule r]',
    ]);
  });

  it('fails closed when the counters for the candidate are missing', () => {
    const snapshot = policyWith(new Set());

    const decisions = evaluate(finding(), snapshot, NOW, { targets: {}, kinds: {} });

    expect(decisions.map(formatDecision)).toEqual([
      'skip: counters unavailable (Redis?) for redeploy-service/nba-phase4 [rule redeploy-drifted]',
    ]);
  });

  it('fails closed on a redeploy of a frozen service when the finding does not name the commit', () => {
    const snapshot = policyWith(new Set<Condition>(['freeze']));
    const f = finding({ labels: { service: 'nba-phase4' } });

    const decisions = evaluate(f, snapshot, NOW, countersFor(f, snapshot));

    expect(decisions.map((d) => d.reason)).toEqual([
      'deploy freeze: nba-phase4 has 1 do_not_deploy commit(s) and the finding has no main_commit label',
    ]);
  });
});

describe('evaluate: rules', () => {
  const snapshot = policyOf(`
    mode: auto
    remediations: { run-job: { mode: auto }, restart-service: { mode: auto } }
    rules:
      - id: backfill
        match: { metric: grading_coverage_pct, labels: ['model=~"catboost.*"'], state: [raised] }
        action:
          kind: run-job
          params: { job: grading-backfill, start_date: '{{range.start_date}}', end_date: '{{range.end_date}}' }
        continue: true
      - id: restart
        match: { metric: grading_coverage_pct, min_duration: 1h }
        action: { kind: restart-service, params: { service: '{{labels.service}}' } }
      - id: never-reached
        match: { metric: grading_coverage_pct }
        action: { kind: restart-service, params: { service: other } }
  `);
  const grading = (labels: Record<string, string>, state: 'raised' | 'ongoing' = 'raised') =>
    finding({ metric: 'grading_coverage_pct', labels, state, since: at('2026-01-26T20:00:00Z') });

  it('renders the affected date range and continues to the next matching rule', () => {
    const f = grading({ model: 'catboost_v9', service: 'nba-grading' });

    const decisions = evaluate(f, snapshot, NOW, countersFor(f, snapshot));

    expect(decisions.map((d) => [d.ruleId, d.action, d.params])).toEqual([
      ['backfill', 'act', { job: 'grading-backfill', start_date: '2026-01-26', end_date: '2026-02-03' }],
      ['restart', 'act', { service: 'nba-grading' }],
    ]);
  });

  it('skips with a reason when a template cannot produce valid params', () => {
    const f = grading({ model: 'xgb', service: 'Not A Service' }, 'ongoing');

    const decisions = evaluate(f, snapshot, NOW, countersFor(f, snapshot));

    expect(decisions.map(formatDecision)).toEqual([
      'skip: rule restart cannot build restart-service params: service: expected a lowercase name like nba-phase4 (letters, digits, dashes), got "Not A Service" [rule restart]',
    ]);
  });

  it('skips when the finding lacks a label a template needs', () => {
    const f = grading({ model: 'xgb' }, 'ongoing');

    expect(evaluate(f, snapshot, NOW, countersFor(f, snapshot)).map((d) => d.reason)).toEqual([
      'rule restart cannot build restart-service params: service: finding has no label "service"',
    ]);
  });

  it('says so when no rule matches, and never matches a cleared finding', () => {
    const other = finding({ metric: 'unrelated', labels: {} });
    const cleared = grading({ model: 'catboost_v9' });

    expect(evaluate(other, snapshot, NOW, countersFor(other, snapshot)).map(formatDecision)).toEqual([
      'skip: no rule matches unrelated [no rule]',
    ]);
    expect(evaluate({ ...cleared, state: 'cleared' }, snapshot, NOW, countersFor(cleared, snapshot))).toEqual(
      [{ action: 'skip', ruleId: null, reason: 'finding f-1 is cleared', gates: [] }],
    );
  });
});

describe('evaluate: override lifecycle', () => {
  it('flips behaviour exactly at ends_at', () => {
    const snapshot = policyWith(new Set<Condition>(['override']));
    const f = finding();
    const clock = new ManualClock(at('2026-02-03T17:59:59.999Z'));

    const before = evaluate(f, snapshot, clock.now(), countersFor(f, snapshot));
    clock.advance(1);
    const after = evaluate(f, snapshot, clock.now(), countersFor(f, snapshot));

    expect(before.map((d) => d.action)).toEqual(['skip']);
    expect(after.map((d) => d.action)).toEqual(['act']);
    expect(after[0]?.gates?.[1]).toEqual({
      gate: 'override',
      result: 'pass',
      reason: 'override hands-off expired at 18:00',
    });
  });

  it('is pending before starts_at and active exactly from it', () => {
    const snapshot = policyWith(new Set<Condition>(['override']));
    const f = finding();

    const pending = evaluate(f, snapshot, at('2026-02-03T11:59:59.999Z'), countersFor(f, snapshot));
    const active = evaluate(f, snapshot, at('2026-02-03T12:00:00Z'), countersFor(f, snapshot));

    expect(pending[0]?.gates?.[1]?.reason).toBe('override hands-off starts at 12:00');
    expect(active.map((d) => d.action)).toEqual(['skip']);
  });
});

describe('evaluate: maintenance windows', () => {
  const snapshot = policyOf(`
    mode: auto
    remediations: { redeploy-service: { mode: auto } }
    rules:
      - id: r
        match: { metric: deploy_drift_commits_behind }
        action: { kind: redeploy-service, params: { service: '{{labels.service}}' } }
    maintenance_windows:
      - { name: batch, cron: '0 2 * * *', duration: 2h, timezone: America/Los_Angeles }
  `);
  const f = finding();

  it.each([
    ['2026-02-03T09:59:59.999Z', 'act'],
    ['2026-02-03T10:00:00Z', 'skip'],
    ['2026-02-03T11:59:59.999Z', 'skip'],
    ['2026-02-03T12:00:00Z', 'act'],
    // Summer time: 02:00 in Los Angeles is 09:00 UTC.
    ['2026-07-03T09:30:00Z', 'skip'],
  ])('at %s → %s', (time, action) => {
    expect(evaluate(f, snapshot, at(time), countersFor(f, snapshot)).map((d) => d.action)).toEqual([action]);
  });
});
