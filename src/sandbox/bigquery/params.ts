import {
  BIGINT,
  BOOLEAN,
  DATE,
  DOUBLE,
  type DuckDBType,
  type DuckDBValue,
  dateValue,
  TIMESTAMP,
  timestampValue,
  VARCHAR,
} from '@duckdb/node-api';
import { z } from 'zod';
import { HttpError } from '../http.js';

/** jobs.query parameters (named or positional) → DuckDB values with explicit types. */
export const queryParameter = z.object({
  name: z.string().optional(),
  parameterType: z.object({ type: z.string() }),
  // The Node client sends INT64/FLOAT64 values as JSON numbers, BigQuery's docs as strings: accept both.
  parameterValue: z
    .object({ value: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional() })
    .optional(),
});
export type QueryParameter = z.infer<typeof queryParameter>;

export interface BoundParameters {
  readonly values: Record<string, DuckDBValue> | DuckDBValue[];
  readonly types: Record<string, DuckDBType> | DuckDBType[];
}

const DAY_MS = 86_400_000;

const CONVERTERS: Readonly<Record<string, { type: DuckDBType; convert: (text: string) => DuckDBValue }>> = {
  STRING: { type: VARCHAR, convert: (text) => text },
  INT64: { type: BIGINT, convert: (text) => parseInteger(text) },
  FLOAT64: { type: DOUBLE, convert: (text) => Number(text) },
  BOOL: { type: BOOLEAN, convert: (text) => text.toLowerCase() === 'true' },
  DATE: { type: DATE, convert: (text) => dateValue(parseDateDays(text)) },
  TIMESTAMP: { type: TIMESTAMP, convert: (text) => timestampValue(parseTimestampMicros(text)) },
};

export function bindParameters(
  parameters: readonly QueryParameter[],
  used: ReadonlySet<string>,
): BoundParameters {
  const named = parameters.some((parameter) => parameter.name !== undefined);
  if (!named) {
    const pairs = parameters.map((parameter) => convert(parameter, '?'));
    return { values: pairs.map((pair) => pair.value), types: pairs.map((pair) => pair.type) };
  }
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  for (const parameter of parameters) {
    const name = parameter.name as string;
    if (!used.has(name)) continue;
    const { value, type } = convert(parameter, name);
    values[name] = value;
    types[name] = type;
  }
  for (const name of used) {
    if (!(name in values)) throw new HttpError(400, `Query parameter '${name}' not found at [1:1]`);
  }
  return { values, types };
}

function convert(parameter: QueryParameter, name: string): { value: DuckDBValue; type: DuckDBType } {
  const kind = parameter.parameterType.type.toUpperCase();
  const converter = CONVERTERS[kind];
  if (!converter) {
    throw new HttpError(
      501,
      `the sandbox supports parameters of type ${Object.keys(CONVERTERS).join(', ')}; ${name} is ${kind}`,
    );
  }
  const raw = parameter.parameterValue?.value;
  if (raw === undefined || raw === null) return { value: null, type: converter.type };
  return { value: converter.convert(String(raw)), type: converter.type };
}

function parseInteger(text: string): bigint {
  if (!/^-?\d+$/.test(text.trim())) throw new HttpError(400, `Invalid INT64 value: ${text}`);
  return BigInt(text.trim());
}

function parseDateDays(text: string): number {
  const ms = Date.parse(`${text.trim()}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text.trim()) || Number.isNaN(ms))
    throw new HttpError(400, `Invalid DATE value: ${text}`);
  return Math.round(ms / DAY_MS);
}

/** Accepts `2026-02-02 12:00:00[.ffffff][+00:00|Z| UTC]` and ISO forms, as BigQuery does. */
function parseTimestampMicros(text: string): bigint {
  const trimmed = text.trim().replace(' UTC', 'Z');
  const match =
    /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
      trimmed,
    );
  if (!match) throw new HttpError(400, `Invalid TIMESTAMP value: ${text}`);
  const zone =
    match[4] === undefined || match[4] === 'Z' ? 'Z' : match[4].length === 3 ? `${match[4]}:00` : match[4];
  const seconds = Date.parse(`${match[1]}T${match[2]}${zone}`);
  if (Number.isNaN(seconds)) throw new HttpError(400, `Invalid TIMESTAMP value: ${text}`);
  const fraction = (match[3] ?? '').padEnd(6, '0').slice(0, 6);
  return BigInt(seconds) * 1000n + BigInt(fraction || '0');
}
