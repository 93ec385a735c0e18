import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { loadScenarioFile, parseScenario, SEED_SCENARIO_PATH } from '../../src/sandbox/index.js';

const minimal = (extra = '') => `name: tiny
project: tiny-project
region: us-west2
start_date: '2026-01-01'
default_at: 3
calendar:
  games_by_weekday: { mon: 2, tue: 2, wed: 2, thu: 2, fri: 2, sat: 2, sun: 2 }
roster: { teams: 4, players_per_team: 6 }
repo:
  history_commits: 5
  commits_by_weekday: { mon: 2, tue: 2, wed: 2, thu: 2, fri: 2, sat: 1, sun: 1 }
  vegas_fix_day: 0
vegas_line: { service: phase4, coverage_with_fix_pct: 90, coverage_without_fix_pct: 40 }
predictions: { worker_service: worker }
models:
  m1: { props: [points] }
grading: { backfill_job: backfill }
services:
  phase4: { auto_deploy: { every_days: 1 } }
  worker: {}
${extra}`;

describe('scenario files', () => {
  it('ships a valid seed scenario', () => {
    const scenario = loadScenarioFile(SEED_SCENARIO_PATH);

    expect(scenario).toMatchObject({ name: 'seed-incident', default_at: 45, start_date: '2025-12-19' });
    expect(scenario.grading.outages.map((outage) => outage.model)).toEqual([
      'catboost_v9',
      'ensemble_v1_1',
      'catboost_v8',
      'ensemble_v1',
    ]);
  });

  it('accepts a minimal scenario and fills defaults', () => {
    const scenario = parseScenario(minimal());

    expect(scenario).toMatchObject({
      seed: 1,
      roster: { active_pct: 87 },
      events: [],
      grading: { outages: [] },
    });
  });

  it.each([
    ['typo', minimal('evnets: []'), 'tiny.yaml:21 evnets: unknown key (did you mean "events"?)'],
    [
      'bad type',
      minimal().replace('default_at: 3', 'default_at: soon'),
      'tiny.yaml:5 default_at: expected number, got string "soon"',
    ],
    [
      'unknown service in an event',
      minimal('events:\n  - { day: 1, wedge: { service: nope } }'),
      'tiny.yaml:22 events[0].wedge.service: unknown service "nope"',
    ],
    [
      'unknown model',
      minimal('').replace(
        'grading: { backfill_job: backfill }',
        'grading:\n  backfill_job: backfill\n  outages:\n    - { model: m9, from_day: 1, to_day: 2, graded_pct: 5, cause: grader_backlog }',
      ),
      'tiny.yaml:20 grading.outages[0].model: unknown model "m9"',
    ],
  ])('reports %s with file:line', (_, text, problem) => {
    const error = (() => {
      try {
        parseScenario(text, 'tiny.yaml');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toContain(problem);
  });
});
