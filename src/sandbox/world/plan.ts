import type { Scenario } from '../scenario/schema.js';
import type { Calendar } from './calendar.js';
import type { Game, Player } from './roster.js';

/** Quotes a string as a SQL literal. */
export function lit(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A TIMESTAMP literal (UTC) for epoch ms. */
export function tsLit(ms: number): string {
  return `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
}

export function dateLit(date: string): string {
  return `DATE '${date}'`;
}

/** One simulated day's decisions, computed in TypeScript before the bulk SQL runs. */
export interface DayPlan {
  readonly day: number;
  readonly date: string;
  readonly vegasCoverage: number;
  readonly phase4Commit: string;
  readonly volumeFraction: number;
  readonly games: readonly Game[];
}

/** Renders `VALUES (...), (...)` inserts; an empty row list renders no statement. */
export function insertValues(table: string, rows: readonly string[][]): string[] {
  if (rows.length === 0) return [];
  return [`INSERT INTO ${table} VALUES ${rows.map((row) => `(${row.join(', ')})`).join(', ')}`];
}

export function planStatements(scenario: Scenario, calendar: Calendar, days: readonly DayPlan[]): string[] {
  const dayRows = days.map((plan) => [
    String(plan.day),
    dateLit(plan.date),
    String(plan.vegasCoverage),
    lit(plan.phase4Commit),
    String(plan.volumeFraction),
    tsLit(calendar.at(plan.day, 10, 30)),
  ]);
  const runRows = days.map((plan) => [
    String(plan.day),
    dateLit(plan.date),
    dateLit(calendar.dateOf(plan.day - 1)),
    tsLit(calendar.at(plan.day, 6)),
  ]);
  const joinable: string[][] = [];
  const grading: string[][] = [];
  for (const plan of days) {
    for (const [model, settings] of Object.entries(scenario.models)) {
      const missing = outageFor(scenario, model, plan.day, 'actuals_missing');
      if (missing) joinable.push([lit(model), dateLit(plan.date), String(missing.graded_pct / 100)]);
      const gameDay = plan.day - settings.grading_lag_days;
      if (gameDay < 0) continue;
      const backlog = outageFor(scenario, model, gameDay, 'grader_backlog');
      grading.push([
        lit(model),
        dateLit(calendar.dateOf(gameDay)),
        String(backlog ? backlog.graded_pct / 100 : 1),
        tsLit(calendar.at(plan.day, 8)),
      ]);
    }
  }
  const games = days.flatMap((plan) =>
    plan.games.map((game) => [
      lit(game.gameId),
      dateLit(game.date),
      '2025',
      lit(game.home),
      lit(game.away),
      lit('Scheduled'),
      tsLit(game.startMs),
    ]),
  );
  return [
    'DELETE FROM plan_day',
    'DELETE FROM plan_runs',
    'DELETE FROM plan_joinable',
    'DELETE FROM plan_grading',
    ...insertValues('plan_day', dayRows),
    ...insertValues('plan_runs', runRows),
    ...insertValues('plan_joinable', joinable),
    ...insertValues('plan_grading', grading),
    ...insertValues('nba_raw.game_schedule', games),
  ];
}

function outageFor(
  scenario: Scenario,
  model: string,
  day: number,
  cause: 'actuals_missing' | 'grader_backlog',
) {
  return scenario.grading.outages.find(
    (outage) =>
      outage.model === model && outage.cause === cause && outage.from_day <= day && day <= outage.to_day,
  );
}

export function registryStatement(players: readonly Player[]): string[] {
  return insertValues(
    'nba_reference.player_registry',
    players.map((player) => [lit(player.lookup), lit(player.name), lit(player.team), lit(player.position)]),
  );
}
