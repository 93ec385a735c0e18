import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { bigquerySql } from '../../src/collectors/bigquery-sql.js';
import type { CollectorDeps } from '../../src/collectors/types.js';
import { ManualClock } from '../../src/core/clock.js';
import type { BigQueryAdapter, QueryParam, Row } from '../../src/platform/index.js';

// Unit tests of row mapping with an in-memory runner; the real client against the sandbox is in test/e2e.
function runnerReturning(rows: Row[]) {
  const calls: { sql: string; params: Readonly<Record<string, QueryParam>> }[] = [];
  const runner: BigQueryAdapter = {
    query: async (sql, params = {}) => {
      calls.push({ sql, params });
      return { rows, schema: [] };
    },
  };
  const deps = { platform: { bigquery: () => runner } } as unknown as CollectorDeps;
  return { calls, deps };
}

const ctx = () => ({
  clock: new ManualClock(Date.parse('2026-02-02T15:00:00Z')),
  logger: pino({ level: 'silent' }),
  signal: new AbortController().signal,
});

describe('bigquery-sql collector', () => {
  it('binds @start_date, @end_date and @as_of from the clock, never interpolating them', async () => {
    const { calls, deps } = runnerReturning([]);
    const options = bigquerySql.options.parse({
      metric: 'vegas_line_coverage',
      query: 'SELECT game_date, value FROM t WHERE game_date BETWEEN @start_date AND @end_date',
      lookback: '28d',
      params: { min_players: { type: 'INT64', value: 50 } },
    });

    await bigquerySql.create(options, deps).collect(ctx());

    expect(calls[0]?.sql).toBe(
      'SELECT game_date, value FROM t WHERE game_date BETWEEN @start_date AND @end_date',
    );
    expect(calls[0]?.params).toEqual({
      min_players: { type: 'INT64', value: 50 },
      start_date: { type: 'DATE', value: '2026-01-05' },
      end_date: { type: 'DATE', value: '2026-02-02' },
      as_of: { type: 'TIMESTAMP', value: '2026-02-02T15:00:00.000Z' },
    });
  });

  it('maps rows to labelled series; NULL and non-numeric values are problems, not samples', async () => {
    const { deps } = runnerReturning([
      { game_date: '2026-02-01', system_id: 'catboost_v9', value: 61.2 },
      { game_date: '2026-02-02', system_id: 'catboost_v9', value: '76.3' },
      { game_date: '2026-02-02', system_id: 'catboost_v8', value: null },
      { game_date: '2026-02-02', system_id: 'ensemble_v1', value: 'n/a' },
    ]);
    const options = bigquerySql.options.parse({
      metric: 'grading_completeness',
      query: 'SELECT 1',
      label_columns: { model: 'system_id' },
    });

    const result = await bigquerySql.create(options, deps).collect(ctx());

    expect(result.samples).toEqual([
      {
        metric: 'grading_completeness',
        labels: { model: 'catboost_v9' },
        timestamp: Date.parse('2026-02-01'),
        value: 61.2,
      },
      {
        metric: 'grading_completeness',
        labels: { model: 'catboost_v9' },
        timestamp: Date.parse('2026-02-02'),
        value: 76.3,
      },
    ]);
    expect(result.problems).toEqual([
      { kind: 'null-value', target: 'grading_completeness row 3', message: 'value is NULL on 2026-02-02' },
      {
        kind: 'non-numeric',
        target: 'grading_completeness row 4',
        message: 'value is not a number on 2026-02-02',
      },
      {
        kind: 'no-data',
        target: 'grading_completeness',
        message: 'latest partition 2026-02-02 has no value yet (NULL)',
      },
    ]);
    // A NULL in today's partition is late data: the series is in no-data state, not 0%.
    expect(result.statuses).toEqual([
      {
        metric: 'grading_completeness',
        labels: { model: 'catboost_v8' },
        status: 'no-data',
        reason: 'latest partition 2026-02-02 has no value yet (NULL)',
      },
    ]);
  });

  it('reports no-data for a series whose latest expected partition is missing, and for an empty result', async () => {
    const late = runnerReturning([
      { game_date: '2026-02-01', system_id: 'catboost_v9', value: 61.2 },
      { game_date: '2026-02-02', system_id: 'catboost_v8', value: 18.9 },
    ]);
    const empty = runnerReturning([]);
    const options = bigquerySql.options.parse({
      metric: 'grading_completeness',
      query: 'SELECT 1',
      label_columns: { model: 'system_id' },
    });

    const lateResult = await bigquerySql.create(options, late.deps).collect(ctx());
    const emptyResult = await bigquerySql.create(options, empty.deps).collect(ctx());

    expect(lateResult.statuses).toEqual([
      {
        metric: 'grading_completeness',
        labels: { model: 'catboost_v9' },
        status: 'no-data',
        reason: 'no row for the latest expected partition 2026-02-02',
      },
    ]);
    expect(emptyResult.statuses).toEqual([
      {
        metric: 'grading_completeness',
        labels: {},
        status: 'no-data',
        reason: 'no row for the latest expected partition 2026-02-02',
      },
    ]);
  });

  it('refuses user parameters that shadow the ones vigil supplies', () => {
    const result = bigquerySql.options.safeParse({
      metric: 'm',
      query: 'SELECT 1',
      params: { end_date: { type: 'DATE', value: '2026-01-01' } },
    });

    expect(result.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [['params', 'end_date'], '@end_date is supplied by vigil; pick another name'],
    ]);
  });
});
