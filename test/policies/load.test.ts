import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configuredMetrics, loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { loadPolicy, parsePolicy } from '../../src/policies/load.js';
import { yaml } from './helpers.js';

const problemsOf = (text: string, knownMetrics?: ReadonlySet<string>): readonly string[] => {
  const result = parsePolicy(yaml(text), 'policy.yaml', { knownMetrics });
  return result.ok ? [] : result.problems;
};

const RULE = `
rules:
  - id: r
    match: { metric: drift }
    action: { kind: redeploy-service, params: { service: '{{labels.service}}' } }
`;

describe('parsePolicy: broken files', () => {
  it.each<[string, string, string[]]>([
    ['an empty file', '', ['policy.yaml:1 (root): the policy file is empty (expected at least "mode:")']],
    [
      'a missing mode',
      'rules: []\n',
      [
        'policy.yaml:1 mode: expected one of "auto" | "dry-run" | "notify-only" | "off", got nothing (required key is missing)',
      ],
    ],
    [
      'an unknown top-level key',
      'mode: auto\nmaintenance_window: []\n',
      ['policy.yaml:2 maintenance_window: unknown key (did you mean "maintenance_windows"?)'],
    ],
    [
      'an unknown nested key and an unknown remediation kind',
      'mode: auto\nremediations:\n  redeploy-service:\n    cooldwn: 1h\n  restart-servce: {}\n',
      [
        'policy.yaml:4 remediations.redeploy-service.cooldwn: unknown key (did you mean "cooldown"?)',
        'policy.yaml:5 remediations.restart-servce: unknown key (did you mean "restart-service"?)',
      ],
    ],
    [
      'a bad mode and a bad duration',
      'mode: paused\nremediations:\n  run-job: { cooldown: soon }\n',
      [
        'policy.yaml:1 mode: expected one of "auto" | "dry-run" | "notify-only" | "off", got string "paused"',
        'policy.yaml:3 remediations.run-job.cooldown: expected a duration like 30s, 5m, 1h or 7d, got "soon"',
      ],
    ],
    [
      'an unknown action kind',
      'mode: auto\nrules:\n  - id: r\n    match: { metric: m }\n    action: { kind: rollback }\n',
      [
        'policy.yaml:5 rules[0].action.kind: expected one of "redeploy-service" | "restart-service" | "rollback-service" | "run-job", got string "rollback"',
      ],
    ],
    [
      'a bad label matcher',
      'mode: auto\nrules:\n  - id: r\n    match: { metric: m, labels: ["service nba"] }\n    action: { kind: restart-service, params: { service: a } }\n',
      [
        'policy.yaml:4 rules[0].match.labels[0]: expected a label matcher like service=nba-phase4, env!=dev or model=~"catboost.*", got "service nba"',
      ],
    ],
    [
      'a template field that does not exist, an unknown param and a bad literal',
      `
      mode: auto
      rules:
        - id: r
          match: { metric: m }
          action:
            kind: run-job
            params:
              job: Grading
              start_date: '{{range.start}}'
              end_date: '{{range.end_date}}'
              dates: all
      `,
      [
        'policy.yaml:8 rules[0].action.params.job: expected a lowercase name like nba-phase4 (letters, digits, dashes), got "Grading"',
        'policy.yaml:9 rules[0].action.params.start_date: unknown template field "range.start" (known: labels.<name>, metric, value, range.start_date, range.end_date)',
        'policy.yaml:11 rules[0].action.params.dates: unknown key (known keys: end_date, job, start_date)',
      ],
    ],
    [
      'a literal date range that runs backwards',
      'mode: auto\nrules:\n  - id: r\n    match: { metric: m }\n    action:\n      kind: run-job\n      params: { job: j, start_date: "2026-02-03", end_date: "2026-02-01" }\n',
      ['policy.yaml:7 rules[0].action.params.end_date: expected end_date on or after start_date'],
    ],
    [
      'duplicate rule ids',
      `mode: auto${RULE}  - id: r\n    match: { metric: drift }\n    action: { kind: restart-service, params: { service: a } }\n`,
      ['policy.yaml:6 rules[1].id: duplicate id "r" (first used at line 3)'],
    ],
    [
      'an override without ends_at',
      'mode: auto\noverrides:\n  - id: o\n    effect: "off"\n    created_by: alice\n    reason: r\n',
      ['policy.yaml:3 overrides[0].ends_at: expected string, got nothing (required key is missing)'],
    ],
    [
      'an override ending before it starts',
      `
      mode: auto
      overrides:
        - id: o
          effect: dry-run
          starts_at: 2026-02-05T00:00:00Z
          ends_at: 2026-02-04T00:00:00Z
          created_by: alice
          reason: r
      `,
      ['policy.yaml:6 overrides[0].ends_at: expected ends_at after starts_at'],
    ],
    [
      'an override time without an offset',
      'mode: auto\noverrides:\n  - { id: o, effect: dry-run, ends_at: "2026-02-04T00:00:00", created_by: a, reason: r }\n',
      ['policy.yaml:3 overrides[0].ends_at: expected datetime, got string "2026-02-04T00:00:00"'],
    ],
    [
      'overlapping contradictory overrides',
      `
      mode: auto
      overrides:
        - { id: a, match: { remediation: redeploy-service }, effect: dry-run, ends_at: 2026-02-04T00:00:00Z, created_by: x, reason: r }
        - { id: b, match: { target: nba-phase4 }, effect: 'off', ends_at: 2026-02-05T00:00:00Z, created_by: y, reason: r }
      `,
      [
        'policy.yaml:4 overrides[1]: contradicts override "a" (line 3): both can select the same remediation at the same time with effects dry-run and off; narrow the selectors or the times',
      ],
    ],
    [
      'a bad cron and a bad time zone',
      `
      mode: auto
      maintenance_windows:
        - { name: a, cron: '0 25 * * *', duration: 1h }
        - { name: b, cron: '0 2 * * *', duration: 1h, timezone: Mars/Olympus }
      `,
      [
        'policy.yaml:3 maintenance_windows[0].cron: expected a cron expression like "0 2 * * *", got "0 25 * * *" (Constraint error, got value 25 expected range 0-23)',
        'policy.yaml:4 maintenance_windows[1].timezone: expected an IANA time zone like UTC or America/New_York, got "Mars/Olympus"',
      ],
    ],
    [
      'a bad do_not_deploy commit',
      'mode: auto\ndo_not_deploy:\n  - { service: nba-phase4, commit: HEAD, created_by: a, reason: r }\n',
      [
        'policy.yaml:3 do_not_deploy[0].commit: expected a git commit sha (7 to 40 lowercase hex digits), got "HEAD"',
      ],
    ],
    [
      'invalid YAML',
      'mode: auto\nrules: [\n',
      ['policy.yaml:3 Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ],
    ['a duplicate key', 'mode: auto\nmode: off\n', ['policy.yaml:2 Map keys must be unique']],
  ])('reports %s', (_name, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });

  it('reports a rule on a metric no detector in the config produces', () => {
    expect(problemsOf(`mode: auto${RULE}`, new Set(['drift_commits', 'probe_success']))).toEqual([
      'policy.yaml:4 rules[0].match.metric: unknown metric "drift": no detector in the config produces it (known: drift_commits, probe_success)',
    ]);
    expect(problemsOf(`mode: auto${RULE}`, new Set(['drif']))).toEqual([
      'policy.yaml:4 rules[0].match.metric: unknown metric "drift": no detector in the config produces it (did you mean "drif"?)',
    ]);
    expect(problemsOf(`mode: auto${RULE}`, new Set(['drift']))).toEqual([]);
  });

  it('throws a ConfigError carrying every problem from loadPolicy', () => {
    const error = (() => {
      try {
        loadPolicy('mode: paused\nextra: 1\n', 'policy.yaml');
      } catch (thrown) {
        return thrown;
      }
    })();

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe('policy policy.yaml is invalid (2 problems)');
    expect((error as ConfigError).problems).toHaveLength(2);
  });
});

describe('parsePolicy: valid files', () => {
  it('fills every default and freezes the snapshot', () => {
    const snapshot = loadPolicy('mode: dry-run\n', 'policy.yaml');

    expect(snapshot.mode).toBe('dry-run');
    expect(snapshot.remediations['run-job']).toEqual({
      mode: 'dry-run',
      cooldown: 3_600_000,
      max_per_hour: { target: 1, global: 5 },
      max_per_day: { target: 3, global: 20 },
      max_concurrent: 1,
      max_consecutive_failures: 3,
      requires_approval: false,
      breaker: {
        error_threshold_percentage: 50,
        volume_threshold: 3,
        reset_timeout: 600_000,
        timeout: 600_000,
      },
      recovery: {},
      hold_for: 86_400_000,
    });
    expect(snapshot.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.isFrozen(snapshot.remediations['run-job'])).toBe(true);
  });

  it('loads the shipped example with the seed platform metrics', async () => {
    const file = 'examples/policy.nba-props.yaml';
    const metrics = configuredMetrics(await loadConfig('examples/nba-props.yaml', {}));

    const result = parsePolicy(readFileSync(file, 'utf8'), file, { knownMetrics: metrics });

    expect(result.ok ? [] : result.problems).toEqual([]);
    expect(result.ok && result.snapshot.rules.map((rule) => `${rule.id}:${rule.mode ?? 'kind'}`)).toEqual([
      'redeploy-drifted-service:kind',
      'backfill-grading:kind',
      'restart-after-failed-probes:kind',
      'suggest-phase4-redeploy-on-vegas-coverage:dry-run',
      'suggest-phase3-rerun:dry-run',
      'suggest-prediction-restart:dry-run',
    ]);
  });
});
