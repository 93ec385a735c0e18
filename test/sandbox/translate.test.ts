import { describe, expect, it } from 'vitest';
import { translateSql } from '../../src/sandbox/bigquery/translate.js';

const context = { project: 'nba-props-platform', nowMs: Date.parse('2026-02-02T12:00:00Z') };

describe('translateSql: BigQuery standard SQL to DuckDB', () => {
  it.each([
    ['SELECT * FROM `nba-props-platform.nba_raw.game_schedule`', 'SELECT * FROM "nba_raw"."game_schedule"'],
    ['SELECT * FROM `nba-props-platform`.nba_raw.game_schedule', 'SELECT * FROM nba_raw.game_schedule'],
    ['SELECT * FROM `nba_raw.game_schedule` t', 'SELECT * FROM "nba_raw"."game_schedule" t'],
    ['SELECT @d, @limit', 'SELECT $d, $limit'],
    ["SELECT '@not_a_param', \"it's\"", "SELECT '@not_a_param', 'it''s'"],
    ['SELECT CURRENT_DATE(), CURRENT_DATE', "SELECT DATE '2026-02-02', DATE '2026-02-02'"],
    ['SELECT CURRENT_TIMESTAMP()', "SELECT TIMESTAMP '2026-02-02 12:00:00.000'"],
    ['SELECT DATE_SUB(@d, INTERVAL 7 DAY)', 'SELECT CAST(($d) - INTERVAL (7) DAY AS DATE)'],
    [
      'SELECT DATE_ADD(CURRENT_DATE(), INTERVAL @n DAY)',
      "SELECT CAST((DATE '2026-02-02') + INTERVAL ($n) DAY AS DATE)",
    ],
    ['SELECT DATE_DIFF(a, b, DAY)', "SELECT date_diff('day', b, a)"],
    ['SELECT TIMESTAMP_DIFF(a, b, HOUR)', "SELECT date_diff('hour', b, a)"],
    ['SELECT DATE_TRUNC(d, MONTH)', "SELECT CAST(date_trunc('month', d) AS DATE)"],
    ["SELECT FORMAT_DATE('%Y%m%d', d)", "SELECT strftime(d, '%Y%m%d')"],
    ['SELECT DATE(created_at)', 'SELECT CAST(created_at AS DATE)'],
    ["SELECT DATE '2026-01-01'", "SELECT DATE '2026-01-01'"],
    ['SELECT CAST(x AS FLOAT64), SAFE_CAST(y AS INT64)', 'SELECT CAST(x AS DOUBLE), TRY_CAST(y AS INT64)'],
    ['SELECT EXTRACT(DAYOFWEEK FROM d)', 'SELECT (dayofweek(d) + 1)'],
    [
      'SELECT DATE_SUB(DATE(ts), INTERVAL 1 DAY) -- trailing comment',
      'SELECT CAST((CAST(ts AS DATE)) - INTERVAL (1) DAY AS DATE) ',
    ],
    ["SELECT ')' AS p, DATE_SUB(d, INTERVAL 1 DAY)", "SELECT ')' AS p, CAST((d) - INTERVAL (1) DAY AS DATE)"],
  ])('%s', (input, expected) => {
    expect(translateSql(input, context).sql).toBe(expected);
  });

  it('reports the parameters and tables a query uses', () => {
    const translation = translateSql(
      'SELECT * FROM `nba-props-platform.a.b` WHERE x = @x AND y = @y',
      context,
    );

    expect([...translation.parameters]).toEqual(['x', 'y']);
    expect(translation.tables).toEqual(['a.b']);
  });

  it.each([
    ['SELECT * FROM `other-project.a.b`', 404, 'Not found: Project other-project'],
    ["SELECT 'open", 400, 'Unclosed string literal'],
    ['SELECT 1; SELECT 2', 501, 'one statement per query'],
    ['SELECT DATE_SUB(d)', 400, 'No matching signature for function DATE_SUB with 1 arguments'],
  ])('rejects %s with %i', (input, status, message) => {
    expect(() => translateSql(input, context)).toThrow(
      expect.objectContaining({ status, message: expect.stringContaining(message) }),
    );
  });
});
