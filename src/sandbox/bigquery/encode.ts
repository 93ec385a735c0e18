import { type DuckDBType, DuckDBTypeId, type DuckDBValue } from '@duckdb/node-api';
import { HttpError, type Json } from '../http.js';

/**
 * DuckDB results in BigQuery's REST encoding: a schema of legacy type names and rows as
 * `{f: [{v: string | null}]}`. Every cell is a string, as BigQuery sends it; TIMESTAMP is int64
 * microseconds when the client asked for `useInt64Timestamp` (the Node client always does).
 */
export interface Field {
  readonly name: string;
  readonly type: string;
  readonly mode: 'NULLABLE';
}

type Encoder = (value: DuckDBValue) => string;

interface Column {
  readonly field: Field;
  readonly encode: Encoder;
}

const INTEGER_IDS = new Set([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.SQLNULL,
]);
const TIMESTAMP_IDS = new Set([
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_TZ,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
]);

export function columnsFor(
  names: readonly string[],
  types: readonly DuckDBType[],
  int64Timestamp: boolean,
): Column[] {
  return names.map((raw, index) => {
    // BigQuery names unnamed expressions f0_, f1_, ...; DuckDB names them after the expression.
    const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(raw) ? raw : `f${index}_`;
    const { type, encode } = encoderFor(types[index] as DuckDBType, raw, int64Timestamp);
    return { field: { name, type, mode: 'NULLABLE' }, encode };
  });
}

function encoderFor(
  type: DuckDBType,
  column: string,
  int64Timestamp: boolean,
): { type: string; encode: Encoder } {
  const id = type.typeId;
  if (INTEGER_IDS.has(id)) return { type: 'INTEGER', encode: String };
  if (id === DuckDBTypeId.FLOAT || id === DuckDBTypeId.DOUBLE) return { type: 'FLOAT', encode: encodeFloat };
  // BigQuery's 0.5 is FLOAT64; DuckDB types the same literal DECIMAL.
  if (id === DuckDBTypeId.DECIMAL)
    return { type: 'FLOAT', encode: (value) => encodeFloat(Number(String(value))) };
  if (id === DuckDBTypeId.VARCHAR || id === DuckDBTypeId.UUID || id === DuckDBTypeId.ENUM)
    return { type: 'STRING', encode: String };
  if (id === DuckDBTypeId.BOOLEAN) return { type: 'BOOLEAN', encode: (value) => (value ? 'true' : 'false') };
  if (id === DuckDBTypeId.DATE) return { type: 'DATE', encode: String };
  if (id === DuckDBTypeId.TIME) return { type: 'TIME', encode: String };
  if (TIMESTAMP_IDS.has(id))
    return { type: 'TIMESTAMP', encode: (value) => encodeTimestamp(value, int64Timestamp) };
  if (id === DuckDBTypeId.BLOB) {
    return {
      type: 'BYTES',
      encode: (value) => Buffer.from((value as { bytes: Uint8Array }).bytes).toString('base64'),
    };
  }
  throw new HttpError(
    501,
    `the sandbox cannot encode column ${column} of DuckDB type ${type.toString()} as a BigQuery result`,
  );
}

function encodeFloat(value: DuckDBValue): string {
  const number = Number(value);
  if (Number.isNaN(number)) return 'NaN';
  if (number === Number.POSITIVE_INFINITY) return 'Infinity';
  if (number === Number.NEGATIVE_INFINITY) return '-Infinity';
  return String(number);
}

function encodeTimestamp(value: DuckDBValue, int64: boolean): string {
  const micros = timestampMicros(value);
  if (int64) return micros.toString();
  // Legacy encoding: seconds as a float string, e.g. "1.7700912E9".
  return (Number(micros) / 1e6).toExponential().replace('e+', 'E');
}

function timestampMicros(value: DuckDBValue): bigint {
  const record = value as { micros?: bigint; millis?: bigint; seconds?: bigint; nanos?: bigint };
  if (record.micros !== undefined) return record.micros;
  if (record.millis !== undefined) return record.millis * 1000n;
  if (record.seconds !== undefined) return record.seconds * 1_000_000n;
  if (record.nanos !== undefined) return record.nanos / 1000n;
  throw new HttpError(500, `unexpected timestamp value ${String(value)}`);
}

/** Rows as BigQuery's `{f: [{v}]}`; NULL is `{v: null}`. */
export function encodeRows(rows: readonly DuckDBValue[][], columns: readonly Column[]): Json[] {
  return rows.map((row) => ({
    f: row.map((value, index) => ({ v: value === null ? null : (columns[index] as Column).encode(value) })),
  }));
}
