/**
 * The seed platform's BigQuery tables, as DuckDB schemas (= BigQuery datasets). Column types are
 * the DuckDB equivalents of the BigQuery types in docs/sandbox.md (BIGINT = INT64, DOUBLE =
 * FLOAT64, VARCHAR = STRING, BOOLEAN = BOOL). Keep this file and that table list in step.
 */
export const DATASETS = [
  'nba_reference',
  'nba_raw',
  'nba_analytics',
  'nba_orchestration',
  'nba_predictions',
] as const;

/** Internal bookkeeping, not a dataset of the seed platform (docs/sandbox.md says so). */
export const INTERNAL_SCHEMA = 'sandbox_internal';

export const TABLE_DDL: readonly string[] = [
  `CREATE TABLE nba_reference.player_registry (
    player_lookup VARCHAR, player_name VARCHAR, team_abbr VARCHAR, position VARCHAR)`,
  `CREATE TABLE nba_raw.game_schedule (
    game_id VARCHAR, game_date DATE, season_year BIGINT, home_team_abbr VARCHAR, away_team_abbr VARCHAR,
    game_status VARCHAR, game_start_time TIMESTAMP)`,
  `CREATE TABLE nba_raw.play_by_play_coverage (
    game_date DATE, game_id VARCHAR, source VARCHAR, expected_events BIGINT, captured_events BIGINT,
    coverage_pct DOUBLE, processed_at TIMESTAMP)`,
  `CREATE TABLE nba_analytics.player_game_summary (
    game_date DATE, game_id VARCHAR, player_lookup VARCHAR, team_abbr VARCHAR, minutes_played DOUBLE,
    points BIGINT, rebounds BIGINT, assists BIGINT, threes_made BIGINT, steals BIGINT, blocks BIGINT,
    processed_at TIMESTAMP)`,
  `CREATE TABLE nba_orchestration.processor_run_history (
    run_id VARCHAR, processor_name VARCHAR, phase VARCHAR, data_date DATE, status VARCHAR,
    started_at TIMESTAMP, processed_at TIMESTAMP, duration_seconds DOUBLE, records_processed BIGINT,
    error_message VARCHAR, triggered_by VARCHAR)`,
  `CREATE TABLE nba_predictions.ml_feature_store_v2 (
    game_date DATE, game_id VARCHAR, player_lookup VARCHAR, team_abbr VARCHAR, opponent_team_abbr VARCHAR,
    feature_count BIGINT, vegas_points_line DOUBLE, has_vegas_line BOOLEAN, feature_quality_score DOUBLE,
    processor_commit VARCHAR, created_at TIMESTAMP)`,
  `CREATE TABLE nba_predictions.player_prop_predictions (
    prediction_id VARCHAR, system_id VARCHAR, game_date DATE, game_id VARCHAR, player_lookup VARCHAR,
    prop_type VARCHAR, line_value DOUBLE, predicted_value DOUBLE, confidence_score DOUBLE,
    recommendation VARCHAR, is_active BOOLEAN, created_at TIMESTAMP)`,
  // Grading marks are stored narrow and prediction_accuracy is a view over them: materialising a
  // quarter of a million wide rows at startup cost about half a second (the 2 s startup budget).
  `CREATE TABLE sandbox_internal.graded (prediction_id VARCHAR, graded_at TIMESTAMP, graded_by VARCHAR)`,
  `CREATE VIEW nba_predictions.prediction_accuracy AS
    SELECT prediction_id, system_id, game_date, player_lookup, prop_type, line_value, predicted_value, actual_value,
      recommendation,
      CASE WHEN actual_value = line_value THEN NULL WHEN recommendation = 'OVER' THEN actual_value > line_value
        ELSE actual_value < line_value END AS prediction_correct,
      round(abs(predicted_value - actual_value), 2) AS absolute_error,
      graded_at, graded_by
    FROM (
      SELECT p.*, g.graded_at, g.graded_by, CAST(CASE p.prop_type WHEN 'points' THEN s.points
          WHEN 'rebounds' THEN s.rebounds WHEN 'assists' THEN s.assists WHEN 'threes' THEN s.threes_made
          WHEN 'pra' THEN s.points + s.rebounds + s.assists WHEN 'pts_reb' THEN s.points + s.rebounds
          WHEN 'steals' THEN s.steals WHEN 'blocks' THEN s.blocks END AS DOUBLE) AS actual_value
      FROM sandbox_internal.graded g
      JOIN nba_predictions.player_prop_predictions p ON p.prediction_id = g.prediction_id
      JOIN nba_analytics.player_game_summary s ON s.game_id = p.game_id AND s.player_lookup = p.player_lookup
    )`,
];

/**
 * BigQuery-only functions the emulator provides as DuckDB macros (the rest are rewritten by
 * the SQL translator). Created on every connection that runs client SQL.
 */
export const BIGQUERY_MACROS: readonly string[] = [
  'CREATE OR REPLACE MACRO safe_divide(a, b) AS CASE WHEN b = 0 THEN NULL ELSE a / b END',
  'CREATE OR REPLACE MACRO logical_or(x) AS bool_or(x)',
  'CREATE OR REPLACE MACRO logical_and(x) AS bool_and(x)',
  'CREATE OR REPLACE MACRO ieee_divide(a, b) AS a / b',
];

export const PHASE3_PROCESSORS = [
  'player_game_summary',
  'team_offense_game_summary',
  'team_defense_game_summary',
  'upcoming_player_game_context',
  'upcoming_team_game_context',
] as const;

/** NBA team tricodes; scenarios use the first `roster.teams`. */
export const TEAMS = [
  'ATL',
  'BOS',
  'BKN',
  'CHA',
  'CHI',
  'CLE',
  'DAL',
  'DEN',
  'DET',
  'GSW',
  'HOU',
  'IND',
  'LAC',
  'LAL',
  'MEM',
  'MIA',
  'MIL',
  'MIN',
  'NOP',
  'NYK',
  'OKC',
  'ORL',
  'PHI',
  'PHX',
  'POR',
  'SAC',
  'SAS',
  'TOR',
  'UTA',
  'WAS',
] as const;
