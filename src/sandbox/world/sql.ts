/**
 * SQL that generates the platform's data in bulk: one INSERT ... SELECT per table for a whole
 * batch of days, driven by small plan tables (plan_day, plan_runs, plan_joinable, plan_grading)
 * the engine fills first. Randomness is DuckDB's hash() of the seed and row keys, so a seed
 * always yields the same rows, and exact shares come from ranking rows by that hash.
 */
export const PLAN_DDL: readonly string[] = [
  'CREATE TEMP TABLE plan_day (day INTEGER, game_date DATE, vegas_coverage DOUBLE, phase4_commit VARCHAR, volume_fraction DOUBLE, created_at TIMESTAMP)',
  'CREATE TEMP TABLE plan_runs (day INTEGER, run_date DATE, data_date DATE, started_at TIMESTAMP)',
  'CREATE TEMP TABLE plan_joinable (system_id VARCHAR, game_date DATE, joinable DOUBLE)',
  'CREATE TEMP TABLE plan_grading (system_id VARCHAR, game_date DATE, graded DOUBLE, graded_at TIMESTAMP)',
  'CREATE TEMP TABLE model_props (system_id VARCHAR, prop_type VARCHAR)',
  'CREATE TEMP TABLE processors (name VARCHAR, ord INTEGER)',
];

/** A uniform number in [0, 1) from the seed and key expressions. */
export function uniform(seed: number, tag: string, ...keys: readonly string[]): string {
  return `(hash(${seed}, '${tag}', ${keys.join(', ')}) % 1000000)::DOUBLE / 1000000`;
}

export function playerBaseSql(seed: number): string {
  const u = (tag: string) => uniform(seed, tag, 'player_lookup');
  return `CREATE TEMP TABLE player_base AS SELECT player_lookup,
    4 + 24 * ${u('pts')} AS points, 2 + 9 * ${u('reb')} AS rebounds, 1 + 7 * ${u('ast')} AS assists,
    0.3 + 3 * ${u('3pm')} AS threes, 0.3 + 1.5 * ${u('stl')} AS steals, 0.2 + 1.8 * ${u('blk')} AS blocks
  FROM nba_reference.player_registry`;
}

export function featuresSql(seed: number, activePct: number): string {
  return `INSERT INTO nba_predictions.ml_feature_store_v2
  WITH active AS (
    SELECT s.game_date, s.game_id, p.player_lookup, p.team_abbr,
      CASE WHEN p.team_abbr = s.home_team_abbr THEN s.away_team_abbr ELSE s.home_team_abbr END AS opponent,
      hash(${seed}, 'vegas', p.player_lookup, s.game_date) AS h
    FROM nba_raw.game_schedule s
    JOIN plan_day d ON d.game_date = s.game_date
    JOIN nba_reference.player_registry p ON p.team_abbr IN (s.home_team_abbr, s.away_team_abbr)
    WHERE hash(${seed}, 'active', p.player_lookup, s.game_date) % 100 < ${activePct}
  ), ranked AS (
    SELECT a.*, row_number() OVER (PARTITION BY a.game_date ORDER BY a.h) AS rn,
      count(*) OVER (PARTITION BY a.game_date) AS n
    FROM active a
  )
  SELECT r.game_date, r.game_id, r.player_lookup, r.team_abbr, r.opponent,
    CAST(33 + r.h % 5 AS BIGINT),
    CASE WHEN r.rn <= round(d.vegas_coverage * r.n) THEN round(b.points * 2) / 2 END,
    r.rn <= round(d.vegas_coverage * r.n),
    round(70 + 30 * ${uniform(seed, 'quality', 'r.player_lookup', 'r.game_date')}, 1),
    d.phase4_commit, d.created_at
  FROM ranked r JOIN plan_day d ON d.game_date = r.game_date JOIN player_base b ON b.player_lookup = r.player_lookup`;
}

const PROP_EXPECTED = `CASE mp.prop_type WHEN 'points' THEN b.points WHEN 'rebounds' THEN b.rebounds
  WHEN 'assists' THEN b.assists WHEN 'threes' THEN b.threes WHEN 'pra' THEN b.points + b.rebounds + b.assists
  WHEN 'pts_reb' THEN b.points + b.rebounds WHEN 'steals' THEN b.steals WHEN 'blocks' THEN b.blocks ELSE 1.0 END`;

export function predictionsSql(seed: number): string {
  // Ranking (a window) is slow over a quarter million rows, so only the few model-dates with
  // unjoinable rows are ranked; the rest keep their game_id.
  return `INSERT INTO nba_predictions.player_prop_predictions
  WITH hashed AS (
    SELECT f.game_date, f.game_id, f.player_lookup, mp.system_id, mp.prop_type,
      round(${PROP_EXPECTED} * 2) / 2 AS line_value,
      hash(${seed}, 'pred', mp.system_id, f.player_lookup, f.game_date, mp.prop_type) AS h,
      d.created_at, d.volume_fraction, coalesce(j.joinable, 1.0) AS joinable
    FROM nba_predictions.ml_feature_store_v2 f
    JOIN plan_day d ON d.game_date = f.game_date
    JOIN player_base b ON b.player_lookup = f.player_lookup
    CROSS JOIN model_props mp
    LEFT JOIN plan_joinable j ON j.system_id = mp.system_id AND j.game_date = f.game_date
  ), base AS (
    SELECT * EXCLUDE (volume_fraction) FROM hashed WHERE h % 1000 < volume_fraction * 1000
  ), joined AS (
    SELECT *, game_id AS final_game_id FROM base WHERE joinable >= 1
    UNION ALL
    SELECT * EXCLUDE (rn, n),
      CASE WHEN rn <= round(joinable * n) THEN game_id ELSE '00225' || lpad(CAST(h % 100000 AS VARCHAR), 5, '0') END
    FROM (
      SELECT *, row_number() OVER (PARTITION BY system_id, game_date ORDER BY h) AS rn,
        count(*) OVER (PARTITION BY system_id, game_date) AS n
      FROM base WHERE joinable < 1
    )
  ), predicted AS (
    SELECT *, round(greatest(line_value, 0.5) * (0.8 + 0.4 * ((h >> 20) % 1000) / 1000.0), 1) AS predicted
    FROM joined
  )
  SELECT 'pp' || to_hex(h), system_id, game_date, final_game_id, player_lookup, prop_type, line_value, predicted,
    round(0.5 + 0.45 * ((h >> 40) % 1000) / 1000.0, 3),
    CASE WHEN predicted > line_value THEN 'OVER' ELSE 'UNDER' END,
    true, created_at + INTERVAL 30 MINUTE
  FROM predicted`;
}

export function actualsSql(seed: number): string {
  const u = (tag: string) => uniform(seed, tag, 'f.player_lookup', 'f.game_date');
  const stat = (column: string, tag: string) =>
    `CAST(round(b.${column} * (0.55 + 0.9 * ${u(tag)})) AS BIGINT)`;
  return `INSERT INTO nba_analytics.player_game_summary
  SELECT f.game_date, f.game_id, f.player_lookup, f.team_abbr, round(12 + 26 * ${u('min')}, 1),
    ${stat('points', 'p')}, ${stat('rebounds', 'r')}, ${stat('assists', 'a')}, ${stat('threes', 't')},
    ${stat('steals', 's')}, ${stat('blocks', 'b')}, r.started_at + INTERVAL 30 MINUTE
  FROM nba_predictions.ml_feature_store_v2 f
  JOIN plan_runs r ON r.data_date = f.game_date
  JOIN player_base b ON b.player_lookup = f.player_lookup`;
}

export function playByPlaySql(seed: number): string {
  return `INSERT INTO nba_raw.play_by_play_coverage
  WITH games AS (
    SELECT s.game_date, s.game_id, r.started_at,
      430 + hash(${seed}, 'pbp', s.game_id) % 90 AS expected,
      CASE WHEN hash(${seed}, 'pbp-gap', s.game_id) % 100 < 4 THEN 5 + hash(${seed}, 'pbp-miss', s.game_id) % 40 ELSE 0 END AS missing
    FROM nba_raw.game_schedule s JOIN plan_runs r ON r.data_date = s.game_date
  )
  SELECT game_date, game_id, 'bigdataball', CAST(expected AS BIGINT), CAST(expected - missing AS BIGINT),
    round(100.0 * (expected - missing) / expected, 2), started_at + INTERVAL 20 MINUTE
  FROM games`;
}

export function processorRunsSql(seed: number): string {
  const games = (column: string) =>
    `(SELECT count(*) FROM nba_raw.game_schedule s WHERE s.game_date = r.${column})`;
  return `INSERT INTO nba_orchestration.processor_run_history
  WITH runs AS (
    SELECT r.*, p.name, p.ord, 20 + hash(${seed}, 'run', p.name, r.run_date) % 240 AS duration,
      CASE p.name
        WHEN 'player_game_summary' THEN (SELECT count(*) FROM nba_analytics.player_game_summary g WHERE g.game_date = r.data_date)
        WHEN 'upcoming_player_game_context' THEN (SELECT count(*) FROM nba_predictions.ml_feature_store_v2 f WHERE f.game_date = r.run_date)
        WHEN 'upcoming_team_game_context' THEN 2 * ${games('run_date')}
        ELSE 2 * ${games('data_date')}
      END AS records
    FROM plan_runs r CROSS JOIN processors p
  )
  SELECT 'run-' || CAST(run_date AS VARCHAR) || '-' || name, name, 'phase3', data_date, 'success',
    started_at + to_minutes(CAST(ord * 7 AS BIGINT)),
    started_at + to_minutes(CAST(ord * 7 AS BIGINT)) + to_seconds(CAST(duration AS BIGINT)),
    CAST(duration AS DOUBLE), CAST(records AS BIGINT), NULL, 'pubsub'
  FROM runs`;
}

/**
 * Ungraded predictions that join to a game result (alias p = predictions); `scope` adds joins
 * and filters. Grading writes narrow marks; nba_predictions.prediction_accuracy is a view.
 */
function candidatesSql(options: { columns: string; scope: string; where: string; gradedAt: string }): string {
  return `SELECT p.prediction_id, p.system_id, p.game_date, ${options.columns} ${options.gradedAt} AS graded_ts
    FROM nba_predictions.player_prop_predictions p
    ${options.scope}
    JOIN nba_analytics.player_game_summary s ON s.game_id = p.game_id AND s.player_lookup = p.player_lookup
    WHERE NOT EXISTS (SELECT 1 FROM sandbox_internal.graded a WHERE a.prediction_id = p.prediction_id)
      ${options.where}`;
}

/**
 * The daily grader: per model and date, grades `graded` x all predictions of that model and
 * date. Only partially graded model-dates are ranked (a window over every row is slow).
 */
export function scheduledGradingSql(seed: number): string {
  const candidates = candidatesSql({
    columns: 'g.graded, t.n,',
    scope: `JOIN plan_grading g ON g.system_id = p.system_id AND g.game_date = p.game_date
      JOIN (SELECT system_id, game_date, count(*) AS n FROM nba_predictions.player_prop_predictions
            JOIN plan_grading USING (system_id, game_date) GROUP BY ALL) t
        ON t.system_id = p.system_id AND t.game_date = p.game_date`,
    where: '',
    gradedAt: 'g.graded_at',
  });
  return `INSERT INTO sandbox_internal.graded
  WITH candidates AS (${candidates}),
  partial AS (
    SELECT *, row_number() OVER (PARTITION BY system_id, game_date ORDER BY hash(${seed}, 'grade', prediction_id)) AS rn
    FROM candidates WHERE graded < 1
  )
  SELECT prediction_id, graded_ts, 'prediction-accuracy-grader' FROM candidates WHERE graded >= 1
  UNION ALL
  SELECT prediction_id, graded_ts, 'prediction-accuracy-grader' FROM partial WHERE rn <= round(graded * n)`;
}

/** A backfill grades every gradeable prediction between $start and $end (inclusive). */
export function backfillGradingSql(): string {
  const candidates = candidatesSql({
    columns: '',
    scope: '',
    where: 'AND p.game_date BETWEEN $start AND $end',
    gradedAt: '$graded_at',
  });
  return `INSERT INTO sandbox_internal.graded
  WITH candidates AS (${candidates})
  SELECT prediction_id, graded_ts, 'grading-backfill' FROM candidates`;
}
