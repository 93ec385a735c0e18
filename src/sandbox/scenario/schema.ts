import { z } from 'zod';

/**
 * The scenario file: everything that makes one simulated platform history. Strict at every level
 * (unknown keys are errors) because a typo in a scenario silently changes what tests assert.
 * Days are integers counted from `start_date` (day 0); `*_day` ranges are inclusive.
 */
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');
const day = z.number().int().min(0).max(366);
const pct = z.number().min(0).max(100);
const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a lowercase name with dashes');

const weekdayCounts = z.strictObject({
  mon: z.number().int().min(0),
  tue: z.number().int().min(0),
  wed: z.number().int().min(0),
  thu: z.number().int().min(0),
  fri: z.number().int().min(0),
  sat: z.number().int().min(0),
  sun: z.number().int().min(0),
});

const autoDeploy = z.strictObject({
  every_days: z.number().int().min(1),
  from_day: day.default(0),
  to_day: day.default(366),
});

const service = z.strictObject({
  description: z.string().default(''),
  auto_deploy: autoDeploy.optional(),
});

/** A commit named relative to main at the moment of the event, or by the scenario's fix commit. */
const commitRef = z.union([
  z.strictObject({ behind_main: z.number().int().min(0) }),
  z.strictObject({ main: z.literal(true) }),
]);

const deployEvent = z.strictObject({
  day,
  deploy: z.strictObject({ service: name, commit: commitRef, by: z.string().default('cloud-build') }),
});
const wedgeEvent = z.strictObject({
  day,
  wedge: z.strictObject({ service: name, mode: z.enum(['error', 'timeout']).default('error') }),
});
const pauseEvent = z.strictObject({
  day,
  pause: z.strictObject({ service: name, by: z.string(), reason: z.string() }),
});
const event = z.union([deployEvent, wedgeEvent, pauseEvent]);

const model = z.strictObject({
  props: z.array(z.string()).min(1),
  grading_lag_days: z.number().int().min(1).max(7).default(1),
});

const outage = z.strictObject({
  model: z.string(),
  from_day: day,
  to_day: day,
  graded_pct: pct,
  /**
   * `grader_backlog`: the grader skipped rows (a backfill can grade them later).
   * `actuals_missing`: the rows cannot be joined to game results, so no backfill can grade them.
   */
  cause: z.enum(['grader_backlog', 'actuals_missing']),
});

export const scenario = z.strictObject({
  name: z.string(),
  description: z.string().default(''),
  seed: z.number().int().min(0).default(1),
  project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'expected a GCP project id'),
  region: z.string().regex(/^[a-z]+-[a-z]+\d$/, 'expected a GCP region like us-west2'),
  start_date: isoDate,
  /** The day `vigil sandbox` opens at when `--at` is not given. */
  default_at: day,
  calendar: z.strictObject({
    games_by_weekday: weekdayCounts,
    no_game_dates: z.array(isoDate).default([]),
  }),
  roster: z.strictObject({
    teams: z.number().int().min(2).max(30).default(30),
    players_per_team: z.number().int().min(5).max(20).default(15),
    active_pct: pct.default(87),
  }),
  repo: z.strictObject({
    history_commits: z.number().int().min(1).default(200),
    commits_by_weekday: weekdayCounts,
    /** The commit that makes phase 4 read the Vegas line correctly lands on main that day. */
    vegas_fix_day: day,
  }),
  vegas_line: z.strictObject({
    service: name,
    coverage_with_fix_pct: pct,
    coverage_without_fix_pct: pct,
    /** Daily noise amplitude in percentage points (uniform in ±noise). */
    noise_pts: z.number().min(0).max(5).default(0.5),
  }),
  predictions: z.strictObject({
    worker_service: name,
    /** Share of the day's predictions still produced while the worker is wedged. */
    wedged_volume_pct: pct.default(35),
  }),
  models: z.record(z.string(), model),
  grading: z.strictObject({
    backfill_job: name,
    outages: z.array(outage).default([]),
  }),
  services: z.record(name, service),
  events: z.array(event).default([]),
});

export type Scenario = z.output<typeof scenario>;
export type ScenarioEvent = Scenario['events'][number];
export type GradingOutage = Scenario['grading']['outages'][number];
