import {
  BigQuery,
  BigQueryDate,
  BigQueryDatetime,
  BigQueryTime,
  BigQueryTimestamp,
} from '@google-cloud/bigquery';
import { bounded } from './errors.js';
import type { GcpCallSite } from './explain.js';

/** A query parameter. Numbers are INT64 when integral, else FLOAT64; `Date` is a TIMESTAMP. */
export type QueryParam =
  | string
  | number
  | boolean
  | Date
  | {
      readonly type: 'DATE' | 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP';
      readonly value: string | number | boolean | null;
    };

/** A result cell, normalised: DATE/DATETIME/TIME as their text, TIMESTAMP as epoch ms, NULL as null. */
export type Cell = string | number | boolean | null;
export type Row = Readonly<Record<string, Cell>>;

export interface QueryResult {
  readonly rows: readonly Row[];
  /** Column names and BigQuery types in result order (empty if the API sent no schema). */
  readonly schema: readonly { readonly name: string; readonly type: string }[];
}

export interface QueryOptions {
  readonly signal?: AbortSignal;
  /** Overrides the adapter's default timeout for this call. */
  readonly timeoutMs?: number;
  /** Page size; the client still fetches every page. */
  readonly maxResults?: number;
}

export interface BigQueryAdapter {
  /** Runs standard SQL with named parameters (`@name`); resolves with every row. */
  query(
    sql: string,
    params?: Readonly<Record<string, QueryParam>>,
    options?: QueryOptions,
  ): Promise<QueryResult>;
}

export function createBigQueryAdapter(
  client: BigQuery,
  defaultTimeoutMs: number,
  site?: GcpCallSite,
): BigQueryAdapter {
  return {
    async query(sql, params = {}, options = {}) {
      const { values, types } = toClientParams(params);
      const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
      const result: readonly unknown[] = await bounded(
        'bigquery query',
        timeoutMs,
        options.signal,
        () =>
          client.query({
            query: sql,
            params: values,
            types,
            // Options jobs.query lacks (jobTimeoutMs, destination, ...) silently switch the client to
            // jobs.insert; keep to the fast path.
            useLegacySql: false,
            ...(options.maxResults ? { maxResults: options.maxResults } : {}),
          }),
        site,
      );
      const rows = (result[0] ?? []) as Record<string, unknown>[];
      return {
        rows: rows.map(normaliseRow),
        schema: schemaOf(result),
      };
    },
  };
}

/** The API response rides along after the rows (its position differs between client paths). */
function schemaOf(result: readonly unknown[]): QueryResult['schema'] {
  for (const item of result.slice(1)) {
    const fields = (item as { schema?: { fields?: { name?: string; type?: string }[] } } | null)?.schema
      ?.fields;
    if (fields) return fields.map((field) => ({ name: field.name ?? '', type: field.type ?? '' }));
  }
  return [];
}

type ClientType = 'DATE' | 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP';

function toClientParams(params: Readonly<Record<string, QueryParam>>) {
  const values: Record<string, unknown> = {};
  const types: Record<string, ClientType> = {};
  for (const [name, param] of Object.entries(params)) {
    if (param instanceof Date) {
      values[name] = BigQuery.timestamp(param);
      types[name] = 'TIMESTAMP';
    } else if (typeof param === 'object') {
      values[name] =
        param.type === 'DATE' && typeof param.value === 'string' ? BigQuery.date(param.value) : param.value;
      types[name] = param.type;
    } else {
      values[name] = param;
      types[name] =
        typeof param === 'string'
          ? 'STRING'
          : typeof param === 'boolean'
            ? 'BOOL'
            : Number.isInteger(param)
              ? 'INT64'
              : 'FLOAT64';
    }
  }
  return { values, types };
}

function normaliseRow(row: Record<string, unknown>): Row {
  const out: Record<string, Cell> = {};
  for (const [name, value] of Object.entries(row)) out[name] = normaliseCell(value);
  return out;
}

function normaliseCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof BigQueryTimestamp) return Date.parse(value.value);
  if (value instanceof BigQueryDate || value instanceof BigQueryDatetime || value instanceof BigQueryTime)
    return value.value;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  // NUMERIC arrives as a Big.js number and INT64 beyond 2^53 as BigQueryInt; both print exactly.
  return Number(String(value));
}
