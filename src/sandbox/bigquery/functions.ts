import { HttpError } from '../http.js';

/**
 * Rewrites BigQuery functions whose DuckDB namesake differs in argument order or result type.
 * Works on code with literals already masked, so parentheses and commas inside strings never
 * confuse the argument splitter. Arguments are rewritten first (functions nest).
 */
const unit = (text: string): string => {
  const word = text.trim().toLowerCase();
  if (
    !/^(microsecond|millisecond|second|minute|hour|day|week|month|quarter|year|isoweek|isoyear)$/.test(word)
  ) {
    throw new HttpError(400, `invalid date part ${text.trim()}`);
  }
  return `'${word.replace(/^iso/, '')}'`;
};

/** `INTERVAL n DAY` → `INTERVAL (n) DAY` (DuckDB wants parentheses around an expression). */
const interval = (text: string): string => {
  const match = /^\s*INTERVAL\s+(.+?)\s+(\w+)\s*$/is.exec(text);
  if (!match) throw new HttpError(400, `expected INTERVAL n PART, got ${text.trim()}`);
  return `INTERVAL (${match[1]}) ${match[2]}`;
};

interface Rewrite {
  /** Accepted argument counts. */
  readonly arity: readonly number[];
  readonly build: (args: readonly string[]) => string;
}

const at = (args: readonly string[], index: number): string => args[index] as string;

const REWRITES: Readonly<Record<string, Rewrite>> = {
  DATE_SUB: { arity: [2], build: (a) => `CAST((${at(a, 0)}) - ${interval(at(a, 1))} AS DATE)` },
  DATE_ADD: { arity: [2], build: (a) => `CAST((${at(a, 0)}) + ${interval(at(a, 1))} AS DATE)` },
  TIMESTAMP_SUB: { arity: [2], build: (a) => `((${at(a, 0)}) - ${interval(at(a, 1))})` },
  TIMESTAMP_ADD: { arity: [2], build: (a) => `((${at(a, 0)}) + ${interval(at(a, 1))})` },
  DATE_DIFF: { arity: [3], build: (a) => `date_diff(${unit(at(a, 2))}, ${at(a, 1)}, ${at(a, 0)})` },
  TIMESTAMP_DIFF: { arity: [3], build: (a) => `date_diff(${unit(at(a, 2))}, ${at(a, 1)}, ${at(a, 0)})` },
  DATE_TRUNC: { arity: [2], build: (a) => `CAST(date_trunc(${unit(at(a, 1))}, ${at(a, 0)}) AS DATE)` },
  TIMESTAMP_TRUNC: { arity: [2], build: (a) => `date_trunc(${unit(at(a, 1))}, ${at(a, 0)})` },
  FORMAT_DATE: { arity: [2], build: (a) => `strftime(${at(a, 1)}, ${at(a, 0)})` },
  FORMAT_TIMESTAMP: { arity: [2], build: (a) => `strftime(${at(a, 1)}, ${at(a, 0)})` },
  PARSE_DATE: { arity: [2], build: (a) => `CAST(strptime(${at(a, 1)}, ${at(a, 0)}) AS DATE)` },
  PARSE_TIMESTAMP: { arity: [2], build: (a) => `strptime(${at(a, 1)}, ${at(a, 0)})` },
  UNIX_MILLIS: { arity: [1], build: (a) => `epoch_ms(${at(a, 0)})` },
  UNIX_SECONDS: { arity: [1], build: (a) => `CAST(epoch(${at(a, 0)}) AS BIGINT)` },
  TIMESTAMP_MILLIS: { arity: [1], build: (a) => `make_timestamp(CAST(${at(a, 0)} AS BIGINT) * 1000)` },
  DATE: {
    arity: [1, 3],
    build: (a) => (a.length === 3 ? `make_date(${a.join(', ')})` : `CAST(${at(a, 0)} AS DATE)`),
  },
  TIMESTAMP: { arity: [1], build: (a) => `CAST(${at(a, 0)} AS TIMESTAMP)` },
  EXTRACT: {
    arity: [1],
    build: (a) => {
      const match = /^\s*DAYOFWEEK\s+FROM\s+(.+)$/is.exec(at(a, 0));
      // BigQuery numbers Sunday 1..Saturday 7; DuckDB's dayofweek is 0..6.
      return match ? `(dayofweek(${match[1]}) + 1)` : `EXTRACT(${at(a, 0)})`;
    },
  },
};

const PATTERN = new RegExp(`(^|[^\\w.$"])(${Object.keys(REWRITES).join('|')})\\s*\\(`, 'gi');

export function rewriteFunctions(code: string): string {
  let out = '';
  let cursor = 0;
  PATTERN.lastIndex = 0;
  for (let match = PATTERN.exec(code); match; match = PATTERN.exec(code)) {
    const nameStart = match.index + (match[1] as string).length;
    const open = match.index + match[0].length - 1;
    const close = matchingParen(code, open);
    const args = splitArgs(code.slice(open + 1, close)).map(rewriteFunctions);
    const name = (match[2] as string).toUpperCase();
    const rewrite = REWRITES[name] as Rewrite;
    if (!rewrite.arity.includes(args.length)) {
      throw new HttpError(400, `No matching signature for function ${name} with ${args.length} arguments`);
    }
    out += code.slice(cursor, nameStart) + rewrite.build(args);
    cursor = close + 1;
    PATTERN.lastIndex = close + 1;
  }
  return out + code.slice(cursor);
}

function matchingParen(code: string, open: number): number {
  let depth = 0;
  for (let index = open; index < code.length; index++) {
    if (code[index] === '(') depth += 1;
    else if (code[index] === ')') {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  throw new HttpError(400, 'Syntax error: Unexpected end of script (unbalanced parentheses)');
}

function splitArgs(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (char === ',' && depth === 0) {
      args.push(text.slice(start, index).trim());
      start = index + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== '' || args.length > 0) args.push(last);
  return args;
}
