import { z } from 'zod';
import { duration } from '../core/duration.js';
import type { Labels, Sample } from '../core/types.js';
import type { QueryParam } from '../platform/index.js';
import type {
  CollectContext,
  CollectorDefinition,
  CollectProblem,
  CollectResult,
  SeriesStatus,
} from './types.js';

const DAY_MS = 86_400_000;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_PARAMS = ['start_date', 'end_date', 'as_of'] as const;

const param = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('STRING'), value: z.string() }),
  z.strictObject({ type: z.enum(['INT64', 'FLOAT64']), value: z.number() }),
  z.strictObject({ type: z.literal('BOOL'), value: z.boolean() }),
  z.strictObject({
    type: z.literal('DATE'),
    value: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD'),
  }),
  z.strictObject({ type: z.literal('TIMESTAMP'), value: z.iso.datetime() }),
]);

const options = z
  .strictObject({
    /** Metric name of the series this query produces. */
    metric: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'expected a snake_case metric name'),
    /** Standard SQL; vigil binds @start_date, @end_date (DATE) and @as_of (TIMESTAMP). */
    query: z.string().min(1),
    /** How far back @start_date lies before @end_date. */
    lookback: duration.default(28 * DAY_MS),
    /** The latest expected partition is as_of minus this (data for "today" may not exist yet). */
    expected_lag: duration.default(0),
    timestamp_column: z.string().regex(IDENTIFIER).default('game_date'),
    value_column: z.string().regex(IDENTIFIER).default('value'),
    /** Label name → result column, e.g. `{ model: system_id }`: one series per distinct value. */
    label_columns: z.record(z.string().regex(IDENTIFIER), z.string().regex(IDENTIFIER)).default({}),
    /** Fixed labels added to every series of this query. */
    labels: z.record(z.string(), z.string()).default({}),
    /** Extra named parameters; names must not shadow the ones vigil supplies. */
    params: z.record(z.string().regex(IDENTIFIER), param).default({}),
    /** Report `no-data` for a series whose latest expected partition returned no row. */
    expect_latest: z.boolean().default(true),
  })
  .superRefine((value, ctx) => {
    for (const name of RESERVED_PARAMS) {
      if (name in value.params) {
        ctx.addIssue({
          code: 'custom',
          path: ['params', name],
          message: `@${name} is supplied by vigil; pick another name`,
        });
      }
    }
  });

export type BigQuerySqlOptions = z.output<typeof options>;

/**
 * Runs one SQL query per tick on BigQuery with bound parameters (never string-interpolated)
 * and maps rows to samples: a timestamp column, a value column and label columns. NULL or
 * non-numeric values are data-quality problems, not samples; an empty latest partition is
 * `no-data` (late data is neither healthy nor 0%).
 */
export const bigquerySql: CollectorDefinition<BigQuerySqlOptions> = {
  kind: 'bigquery-sql',
  summary: 'BigQuery SQL with bound @start_date/@end_date/@as_of; rows become series samples',
  options,
  create(settings, deps) {
    return {
      metrics: [settings.metric],
      async collect(ctx) {
        const window = queryWindow(ctx.clock.now(), settings);
        const { rows } = await deps.platform
          .bigquery()
          .query(settings.query, window.params, { signal: ctx.signal });
        return rowsToResult(rows, settings, window.endDate, ctx);
      },
    };
  },
};

function queryWindow(now: number, settings: BigQuerySqlOptions) {
  const end = startOfDay(now - settings.expected_lag);
  const endDate = isoDate(end);
  const params: Record<string, QueryParam> = {
    ...settings.params,
    start_date: { type: 'DATE', value: isoDate(end - settings.lookback) },
    end_date: { type: 'DATE', value: endDate },
    as_of: { type: 'TIMESTAMP', value: new Date(now).toISOString() },
  };
  return { params, endDate: end };
}

function rowsToResult(
  rows: readonly Record<string, unknown>[],
  settings: BigQuerySqlOptions,
  latestPartition: number,
  ctx: CollectContext,
): CollectResult {
  const samples: Sample[] = [];
  const problems: CollectProblem[] = [];
  const seen = new Map<string, { labels: Labels; latest: boolean }>();
  rows.forEach((row, index) => {
    const labels = rowLabels(row, settings);
    const target = `${settings.metric} row ${index + 1}`;
    const timestamp = toTimestamp(row[settings.timestamp_column]);
    if (timestamp === undefined) {
      problems.push({
        kind: 'bad-row',
        target,
        message: `column ${settings.timestamp_column} is not a date or timestamp`,
      });
      return;
    }
    const key = JSON.stringify(labels);
    const entry = seen.get(key) ?? { labels, latest: false };
    entry.latest ||= startOfDay(timestamp) >= latestPartition;
    seen.set(key, entry);
    const raw = row[settings.value_column];
    const value = toNumber(raw);
    if (raw === null || raw === undefined) {
      problems.push({
        kind: 'null-value',
        target,
        message: `${settings.value_column} is NULL on ${isoDate(timestamp)}`,
      });
    } else if (value === undefined) {
      problems.push({
        kind: 'non-numeric',
        target,
        message: `${settings.value_column} is not a number on ${isoDate(timestamp)}`,
      });
    } else {
      samples.push({ metric: settings.metric, labels, timestamp, value });
    }
  });
  const statuses = settings.expect_latest ? noDataStatuses(seen, settings, latestPartition) : [];
  for (const status of statuses)
    problems.push({ kind: 'no-data', target: settings.metric, message: status.reason });
  ctx.logger.debug(
    { metric: settings.metric, rows: rows.length, samples: samples.length },
    'bigquery rows mapped',
  );
  return { samples, problems, statuses };
}

function noDataStatuses(
  seen: ReadonlyMap<string, { labels: Labels; latest: boolean }>,
  settings: BigQuerySqlOptions,
  latestPartition: number,
): SeriesStatus[] {
  const reason = `no row for the latest expected partition ${isoDate(latestPartition)}`;
  if (seen.size === 0)
    return [{ metric: settings.metric, labels: settings.labels, status: 'no-data', reason }];
  return [...seen.values()]
    .filter((entry) => !entry.latest)
    .map((entry) => ({ metric: settings.metric, labels: entry.labels, status: 'no-data' as const, reason }));
}

function rowLabels(row: Record<string, unknown>, settings: BigQuerySqlOptions): Labels {
  const labels: Record<string, string> = { ...settings.labels };
  for (const [label, column] of Object.entries(settings.label_columns)) {
    const value = unwrap(row[column]);
    labels[label] = value === null || value === undefined ? '' : String(value);
  }
  return labels;
}

/** The BigQuery client wraps DATE/TIMESTAMP/NUMERIC cells in objects with a `value`. */
function unwrap(cell: unknown): unknown {
  if (cell !== null && typeof cell === 'object' && 'value' in cell) return (cell as { value: unknown }).value;
  return cell;
}

function toNumber(cell: unknown): number | undefined {
  const value = unwrap(cell);
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

function toTimestamp(cell: unknown): number | undefined {
  const value = unwrap(cell);
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
