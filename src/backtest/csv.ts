import type { Readable } from 'node:stream';
import { ConfigError } from '../core/errors.js';

/** Parsed rows of one input chunk, as parallel arrays (no object per row). */
export interface RowBatch {
  readonly length: number;
  /** The timestamp exactly as written, echoed to the output. */
  readonly timestampTexts: readonly string[];
  readonly valueTexts: readonly string[];
  readonly timestamps: Float64Array;
  /** NaN or ±Infinity for missing values (empty, null, NaN, Infinity). */
  readonly values: Float64Array;
  /** 1-based line number of the batch's first row. */
  readonly firstLine: number;
}

/** Thrown for malformed input; the message always starts with `line N:`. Exit code 2. */
export function csvError(line: number, message: string): ConfigError {
  return new ConfigError(`line ${line}: ${message}`, [], { code: 'csv-invalid' });
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Epoch ms of `YYYY-MM-DD HH:MM:SS` (UTC) or ISO-8601 with an optional zone; NaN when malformed. */
export function parseTimestamp(text: string): number {
  const m = TIMESTAMP.exec(text);
  if (!m) return Number.NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const fraction = m[7] === undefined ? 0 : Math.round(Number(m[7]) * 1000);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return Number.NaN;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
}

const MISSING = new Set(['', 'null', 'NULL', 'NaN', 'nan', 'NA', 'N/A', 'None']);

/** A value cell: a finite number, NaN for missing, ±Infinity kept (skipped downstream); undefined if junk. */
export function parseValue(text: string): number | undefined {
  const trimmed = text.trim();
  if (MISSING.has(trimmed)) return Number.NaN;
  const lower = trimmed.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity')
    return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  const value = Number(trimmed);
  return Number.isNaN(value) ? undefined : value;
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

/**
 * Streams a `timestamp,value` CSV (LF or CRLF, optional BOM, extra columns ignored) and hands
 * each chunk's rows to `onBatch`, awaiting it (backpressure). Timestamps must not go backwards.
 * Throws `line N: ...` ConfigErrors. Returns the number of data rows.
 */
export async function readSeriesCsv(
  input: Readable,
  onBatch: (batch: RowBatch) => Promise<void> | void,
): Promise<number> {
  const state = { line: 0, rows: 0, previous: Number.NEGATIVE_INFINITY, header: false, carry: '' };
  input.setEncoding('utf8');
  for await (const chunk of input as AsyncIterable<string>) {
    const text = state.carry + chunk;
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      state.carry = text;
      continue;
    }
    state.carry = text.slice(lastNewline + 1);
    const batch = parseLines(text.slice(0, lastNewline).split('\n'), state);
    if (batch.length > 0) await onBatch(batch);
  }
  const batch = parseLines(state.carry === '' ? [] : [state.carry], state);
  if (batch.length > 0) await onBatch(batch);
  if (!state.header) throw csvError(1, 'empty input: expected the header timestamp,value');
  return state.rows;
}

interface ParseState {
  line: number;
  rows: number;
  previous: number;
  header: boolean;
}

function parseLines(lines: string[], state: ParseState): RowBatch {
  const timestampTexts: string[] = [];
  const valueTexts: string[] = [];
  const timestamps = new Float64Array(lines.length);
  const values = new Float64Array(lines.length);
  let firstLine = 0;
  for (const raw of lines) {
    state.line++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!state.header) {
      checkHeader(line, state.line);
      state.header = true;
      continue;
    }
    if (line.trim() === '') continue;
    const comma = line.indexOf(',');
    if (comma < 0)
      throw csvError(state.line, `expected 2 columns (timestamp,value), got 1: ${JSON.stringify(line)}`);
    const next = line.indexOf(',', comma + 1);
    const timestampText = unquote(line.slice(0, comma).trim());
    const valueText = unquote(next < 0 ? line.slice(comma + 1) : line.slice(comma + 1, next));
    const timestamp = parseTimestamp(timestampText);
    if (Number.isNaN(timestamp)) {
      throw csvError(
        state.line,
        `timestamp ${JSON.stringify(timestampText)} is not ISO-8601 or YYYY-MM-DD HH:MM:SS`,
      );
    }
    if (timestamp < state.previous)
      throw csvError(state.line, `timestamp ${timestampText} is earlier than the row before`);
    const value = parseValue(valueText);
    if (value === undefined) throw csvError(state.line, `value ${JSON.stringify(valueText)} is not a number`);
    if (timestampTexts.length === 0) firstLine = state.line;
    timestamps[timestampTexts.length] = timestamp;
    values[timestampTexts.length] = value;
    timestampTexts.push(timestampText);
    valueTexts.push(valueText.trim());
    state.previous = timestamp;
  }
  state.rows += timestampTexts.length;
  return { length: timestampTexts.length, timestampTexts, valueTexts, timestamps, values, firstLine };
}

function checkHeader(line: string, lineNumber: number): void {
  const columns = line
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((column) => unquote(column.trim()).toLowerCase());
  if (columns[0] !== 'timestamp' || columns[1] !== 'value') {
    throw csvError(lineNumber, `expected the header timestamp,value, got ${JSON.stringify(line)}`);
  }
}

/** Quotes a CSV field only when it needs it (comma, quote or newline). */
export function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
