import { BigQuery, BigQueryDate, BigQueryTimestamp } from '@google-cloud/bigquery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { rawClients } from './helpers.js';

describe('BigQuery emulation with the real @google-cloud/bigquery client', () => {
  let sandbox: Sandbox;
  let clients: ReturnType<typeof rawClients>;

  beforeAll(async () => {
    sandbox = await startSandbox();
    clients = rawClients(sandbox);
  });

  afterAll(async () => {
    await clients?.close();
    await sandbox?.close();
  });

  it('binds every supported parameter type and returns typed rows', async () => {
    const [rows] = await clients.bigquery.query({
      query: `SELECT @s AS s, @i + 1 AS i, @f * 2 AS f, @b AS b, @d AS d, @t AS t, NULL AS nothing,
        CURRENT_DATE() AS today, COUNT(*) AS n
        FROM \`nba-props-platform.nba_reference.player_registry\``,
      params: {
        s: 'lebron',
        i: 41,
        f: 0.25,
        b: true,
        d: BigQuery.date('2026-02-02'),
        t: BigQuery.timestamp(new Date('2026-02-02T12:34:56.789Z')),
      },
    });

    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row).toMatchObject({ s: 'lebron', i: 42, f: 0.5, b: true, nothing: null, n: 450 });
    expect(row.d).toBeInstanceOf(BigQueryDate);
    expect(row.d.value).toBe('2026-02-02');
    expect(row.today.value).toBe('2026-02-02');
    expect(row.t).toBeInstanceOf(BigQueryTimestamp);
    expect(row.t.value).toBe('2026-02-02T12:34:56.789Z');
  });

  it('runs the seed monitors’ SQL unchanged: COUNTIF, SAFE_DIVIDE, DATE_SUB(@d, INTERVAL n DAY)', async () => {
    const [rows] = await clients.bigquery.query({
      query: `SELECT game_date, COUNT(*) AS players,
          ROUND(100 * SAFE_DIVIDE(COUNTIF(vegas_points_line IS NOT NULL), COUNT(*)), 1) AS coverage_pct,
          MAX(created_at) AS built_at
        FROM \`nba-props-platform.nba_predictions.ml_feature_store_v2\`
        WHERE game_date BETWEEN DATE_SUB(@d, INTERVAL 1 DAY) AND @d
        GROUP BY game_date ORDER BY game_date`,
      params: { d: BigQuery.date('2026-02-02') },
    });

    expect(rows.map((row) => row.game_date.value)).toEqual(['2026-02-01', '2026-02-02']);
    expect(rows[0].coverage_pct).toBeGreaterThan(91);
    expect(rows[1].coverage_pct).toBeLessThan(46);
    expect(typeof rows[1].players).toBe('number');
    expect(rows[1].built_at.value).toBe('2026-02-02T10:30:00.000Z');
  });

  it('pages through a result with getQueryResults', async () => {
    const before = sandbox.requests().at(-1)?.seq ?? 0;

    const [rows] = await clients.bigquery.query({
      query: 'SELECT player_lookup FROM nba_reference.player_registry ORDER BY player_lookup',
      maxResults: 100,
    });

    expect(rows).toHaveLength(450);
    expect(new Set(rows.map((row) => row.player_lookup)).size).toBe(450);
    const routes = sandbox.requests(before).map((entry) => entry.route);
    expect(routes[0]).toBe('bigquery.query');
    expect(routes).toContain('bigquery.getQueryResults');
  });

  it('answers a SQL error with an ApiError 400 invalidQuery carrying DuckDB’s message', async () => {
    const error = await clients.bigquery.query('SELEC 1').catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 400, errors: [expect.objectContaining({ reason: 'invalidQuery' })] });
    expect((error as Error).message).toContain('syntax error');
  });

  it('answers an unknown table with 404 notFound', async () => {
    const error = await clients.bigquery
      .query('SELECT * FROM `nba-props-platform.nba_raw.no_such_table`')
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 404, errors: [expect.objectContaining({ reason: 'notFound' })] });
  });

  it('refuses DML with 501 rather than pretending', async () => {
    const error = await clients.bigquery
      .query('DELETE FROM nba_raw.game_schedule WHERE true')
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 501 });
  });
});
