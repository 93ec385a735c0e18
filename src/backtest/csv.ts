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

/** Days from 1970-01-01 to the first of `month` (1–12) of `year`, proleptic Gregorian (Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The digit at `i` (0–9), or -1 when it is not an ASCII digit. */
function digit(text: string, i: number): number {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(text: string, i: number): number {
  const a = digit(text, i);
  const b = digit(text, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/**
 * Epoch ms of `YYYY-MM-DD HH:MM:SS` (UTC) or ISO-8601 with an optional zone; NaN when malformed.
 * Accepts exactly `YYYY-MM-DD[T ]HH:MM[:SS[.fraction]][Z|±HH[:]MM]`, with month 1–12, day 1–31,
 * a day that exists in that month, hour ≤ 23, minute ≤ 59, second ≤ 60 (a leap second rolls over
 * the way Date.UTC does). Hand-written (one pass over char codes, no allocation): it is called once per row.
 */
export function parseTimestamp(text: string): number {
  const length = text.length;
  if (length === 10) return parseDate(text);
  if (length < 16) return Number.NaN;
  const y0 = digit(text, 0);
  const y1 = digit(text, 1);
  const y2 = digit(text, 2);
  const y3 = digit(text, 3);
  if (y0 < 0 || y1 < 0 || y2 < 0 || y3 < 0) return Number.NaN;
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const separator = text.charCodeAt(10);
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || (separator !== 84 && separator !== 32))
    return Number.NaN;
  if (text.charCodeAt(13) !== 58) return Number.NaN;
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  if (month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
    return Number.NaN;
  // A day past the month's end (2026-02-30) is a typo, not a date: rolling it over would put the
  // row on another day silently.
  if (day > (DAYS_IN_MONTH[month] as number) || (month === 2 && day === 29 && !isLeap(year)))
    return Number.NaN;
  let i = 16;
  let second = 0;
  let fraction = 0;
  if (i < length && text.charCodeAt(i) === 58) {
    second = twoDigits(text, i + 1);
    if (second < 0 || second > 60) return Number.NaN;
    i += 3;
    if (i < length && text.charCodeAt(i) === 46) {
      const from = i;
      i++;
      while (i < length && digit(text, i) >= 0) i++;
      const digits = i - from - 1;
      if (digits === 0) return Number.NaN;
      if (digits <= 3) {
        // Exact: what Math.round(Number('.ddd') * 1000) gives for up to three digits.
        fraction = digit(text, from + 1) * 100;
        if (digits > 1) fraction += digit(text, from + 2) * 10;
        if (digits > 2) fraction += digit(text, from + 3);
      } else {
        fraction = Math.round(Number(text.slice(from, i)) * 1000);
      }
    }
  }
  let offsetMinutes = 0;
  if (i < length) {
    const zone = text.charCodeAt(i);
    if (zone === 90) {
      i++;
    } else if (zone === 43 || zone === 45) {
      const hours = twoDigits(text, i + 1);
      if (hours < 0) return Number.NaN;
      i += 3;
      if (i < length && text.charCodeAt(i) === 58) i++;
      const minutes = twoDigits(text, i);
      if (minutes < 0) return Number.NaN;
      i += 2;
      offsetMinutes = (zone === 45 ? -1 : 1) * (hours * 60 + minutes);
    } else {
      return Number.NaN;
    }
    if (i !== length) return Number.NaN;
  }
  // Date.UTC maps years 0–99 to 1900–1999 and rolls day/second overflow: keep its answer there.
  const ms =
    year >= 100 &&
    second < 60 &&
    day <= (DAYS_IN_MONTH[month] as number) &&
    (month !== 2 || day < 29 || isLeap(year))
      ? daysFromCivil(year, month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + fraction
      : Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  return ms - offsetMinutes * 60_000;
}

/** Epoch ms of midnight UTC of a date-only stamp `YYYY-MM-DD` (daily exports); NaN when malformed. */
function parseDate(text: string): number {
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return Number.NaN;
  const high = twoDigits(text, 0);
  const low = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (high < 0 || low < 0 || month < 1 || month > 12 || day < 1) return Number.NaN;
  const year = high * 100 + low;
  if (year < 100 || day > (DAYS_IN_MONTH[month] as number) || (month === 2 && day === 29 && !isLeap(year)))
    return Number.NaN;
  return daysFromCivil(year, month, day) * 86_400_000;
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const MISSING = new Set(['', 'null', 'NULL', 'NaN', 'nan', 'NA', 'N/A', 'None']);

/** A value cell: a finite number, NaN for missing, ±Infinity kept (skipped downstream); undefined if junk. */
export function parseValue(text: string): number | undefined {
  const trimmed = text.trim();
  // Plain numbers first (nearly every cell): Number() is NaN for every missing marker and for
  // the spellings of infinity handled below, and '' (0 for Number) is missing.
  if (trimmed !== '') {
    const value = Number(trimmed);
    if (!Number.isNaN(value)) return value;
  }
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

/** A row that could not be read: its 1-based line number and what was wrong. */
export interface BadRow {
  readonly line: number;
  readonly message: string;
}

export interface ReadOptions {
  /** Timestamps that repeat or go back are an error (`line N: ...`) instead of being counted. */
  readonly strict?: boolean;
  /** Bad rows are collected (up to this many are tolerated; more throw, listing them all). */
  readonly maxBadRows?: number;
}

/** What a read saw besides the rows it handed on. */
export interface ReadResult {
  readonly rows: number;
  /** Rows left out because they could not be read, in file order. */
  readonly badRows: readonly BadRow[];
}

/** How many bad rows an error message lists before it only counts them. */
const LISTED_BAD_ROWS = 50;

/**
 * Streams a `timestamp,value` CSV (LF or CRLF, optional BOM, extra columns ignored) and hands
 * each chunk's rows to `onBatch`, awaiting it (backpressure). Rows are handed on in input order,
 * including timestamps that repeat or go back (real exports replay an hour): the consumer counts
 * them, unless `strict` makes them an error. Unreadable rows are left out and collected; more than
 * `maxBadRows` (default 0) throw one ConfigError listing every one with its line number, after
 * the whole input was read. A bad header throws at once.
 */
export async function readSeriesCsv(
  input: Readable,
  onBatch: (batch: RowBatch) => Promise<void> | void,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const state: ParseState = {
    line: 0,
    rows: 0,
    previous: Number.NEGATIVE_INFINITY,
    header: false,
    carry: '',
    strict: options.strict === true,
    bad: [],
  };
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
  const allowed = options.maxBadRows ?? 0;
  if (state.bad.length > allowed) {
    const listed = state.bad.slice(0, LISTED_BAD_ROWS).map((row) => `line ${row.line}: ${row.message}`);
    if (state.bad.length > LISTED_BAD_ROWS) listed.push(`… and ${state.bad.length - LISTED_BAD_ROWS} more`);
    const first = state.bad[0] as BadRow;
    throw new ConfigError(
      state.bad.length === 1
        ? `line ${first.line}: ${first.message}`
        : `${state.bad.length} bad rows (at most ${allowed} allowed, --max-bad-rows)`,
      state.bad.length === 1 ? [] : listed,
      { code: 'csv-invalid' },
    );
  }
  return { rows: state.rows, badRows: state.bad };
}

interface ParseState {
  line: number;
  rows: number;
  previous: number;
  header: boolean;
  carry: string;
  readonly strict: boolean;
  readonly bad: BadRow[];
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
    if (comma < 0) {
      state.bad.push({
        line: state.line,
        message: `expected 2 columns (timestamp,value), got 1: ${JSON.stringify(line)}`,
      });
      continue;
    }
    const next = line.indexOf(',', comma + 1);
    const timestampText = unquote(line.slice(0, comma).trim());
    const valueText = unquote(next < 0 ? line.slice(comma + 1) : line.slice(comma + 1, next));
    const timestamp = parseTimestamp(timestampText);
    if (Number.isNaN(timestamp)) {
      state.bad.push({
        line: state.line,
        message: `timestamp ${JSON.stringify(timestampText)} is not ISO-8601, YYYY-MM-DD HH:MM:SS or YYYY-MM-DD`,
      });
      continue;
    }
    if (state.strict && timestamp <= state.previous)
      throw csvError(
        state.line,
        `timestamp ${timestampText} ${timestamp === state.previous ? 'repeats' : 'is earlier than'} the row before (--strict)`,
      );
    const value = parseValue(valueText);
    if (value === undefined) {
      state.bad.push({ line: state.line, message: `value ${JSON.stringify(valueText)} is not a number` });
      continue;
    }
    if (timestampTexts.length === 0) firstLine = state.line;
    timestamps[timestampTexts.length] = timestamp;
    values[timestampTexts.length] = value;
    timestampTexts.push(timestampText);
    valueTexts.push(valueText.trim());
    state.previous = Math.max(state.previous, timestamp);
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
  // Four native scans beat one char-code loop and a regex on reasons of ~100 characters.
  if (!text.includes(',') && !text.includes('"') && !text.includes('\n') && !text.includes('\r')) return text;
  return `"${text.replaceAll('"', '""')}"`;
}
