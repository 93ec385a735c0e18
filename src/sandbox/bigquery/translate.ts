import { HttpError } from '../http.js';
import { rewriteFunctions } from './functions.js';

/**
 * BigQuery standard SQL → DuckDB SQL, for the subset vigil's queries use (docs/sandbox.md lists
 * it). Strings, comments and quoted identifiers are cut out first so rewrites only ever touch
 * code; table names lose their project; `@name` becomes `$name`; CURRENT_DATE() and
 * CURRENT_TIMESTAMP() become literals of the simulated clock.
 */
export interface Translation {
  readonly sql: string;
  /** Parameter names the query references (BigQuery allows unused parameters, DuckDB does not). */
  readonly parameters: ReadonlySet<string>;
  /** `dataset.table` names the query references, for not-found messages. */
  readonly tables: readonly string[];
}

export interface TranslateContext {
  readonly project: string;
  /** Simulated now, epoch ms. */
  readonly nowMs: number;
}

// Masked literals are written as private-use characters around an index; SQL code never contains them.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

const TYPE_NAMES: Readonly<Record<string, string>> = {
  FLOAT64: 'DOUBLE',
  NUMERIC: 'DECIMAL(38, 9)',
  BIGNUMERIC: 'DECIMAL(38, 9)',
  BYTES: 'BLOB',
  DATETIME: 'TIMESTAMP',
};

export function translateSql(input: string, context: TranslateContext): Translation {
  const literals: string[] = [];
  const tables: string[] = [];
  const hold = (text: string): string => {
    literals.push(text);
    return `${OPEN}${literals.length - 1}${CLOSE}`;
  };
  let code = '';
  let index = 0;
  while (index < input.length) {
    const char = input[index] as string;
    const next = input[index + 1];
    if (char === '-' && next === '-') index = skipLine(input, index);
    else if (char === '#') index = skipLine(input, index);
    else if (char === '/' && next === '*') {
      const end = input.indexOf('*/', index + 2);
      index = end < 0 ? input.length : end + 2;
      code += ' ';
    } else if (char === "'" || char === '"') {
      const { text, end } = readString(input, index);
      // A raw-string prefix (r'...') was copied as code; the literal is rendered unescaped anyway.
      if (/(^|[^\w])[rR]$/.test(code)) code = code.slice(0, -1);
      code += hold(`'${text.replaceAll("'", "''")}'`);
      index = end;
    } else if (char === '`') {
      const end = input.indexOf('`', index + 1);
      if (end < 0) throw new HttpError(400, 'Syntax error: Unclosed identifier literal');
      const inner = input.slice(index + 1, end);
      index = end + 1;
      // `project`.dataset.table: only the project part was quoted; drop it with its dot.
      if (inner === context.project && input[index] === '.') {
        index += 1;
        continue;
      }
      const name = tableName(inner, context.project);
      if (name.includes('.')) tables.push(name);
      code += hold(
        name
          .split('.')
          .map((part) => `"${part.replaceAll('"', '""')}"`)
          .join('.'),
      );
    } else {
      code += char;
      index += 1;
    }
  }
  if (/;\s*\S/.test(code))
    throw new HttpError(501, 'the sandbox runs one statement per query; scripts are not emulated');
  if (/@@\w/.test(code)) throw new HttpError(501, 'the sandbox does not support @@ system variables');
  const parameters = new Set<string>();
  code = code.replace(/@(\w+)/g, (_, name: string) => {
    parameters.add(name);
    return `$${name}`;
  });
  code = code.replace(new RegExp(`\\b${escapeRegExp(context.project)}\\.`, 'g'), '');
  code = replaceClock(code, context.nowMs, hold);
  code = code.replace(
    /\b(FLOAT64|NUMERIC|BIGNUMERIC|BYTES|DATETIME)\b(?!\s*\()/gi,
    (word) => TYPE_NAMES[word.toUpperCase()] ?? word,
  );
  code = code.replace(/\bSAFE_CAST\s*\(/gi, 'TRY_CAST(');
  code = rewriteFunctions(code);
  const sql = code.replace(PLACEHOLDER, (_, at: string) => literals[Number(at)] ?? '');
  return { sql, parameters, tables };
}

function replaceClock(code: string, nowMs: number, hold: (text: string) => string): string {
  const iso = new Date(nowMs).toISOString();
  const date = hold(`DATE '${iso.slice(0, 10)}'`);
  const timestamp = hold(`TIMESTAMP '${iso.replace('T', ' ').replace('Z', '')}'`);
  return code
    .replace(/\bCURRENT_DATE\b(\s*\(\s*(?:'[^']*'|"[^"]*")?\s*\))?/gi, date)
    .replace(/\b(CURRENT_TIMESTAMP|CURRENT_DATETIME)\b(\s*\(\s*\))?/gi, timestamp);
}

/** `project.dataset.table` → `dataset.table`; another project is not found (like BigQuery). */
function tableName(quoted: string, project: string): string {
  const parts = quoted.split('.');
  if (parts.length === 3) {
    if (parts[0] !== project) throw new HttpError(404, `Not found: Project ${parts[0]}`, 'notFound');
    return `${parts[1]}.${parts[2]}`;
  }
  return quoted;
}

function skipLine(input: string, index: number): number {
  const end = input.indexOf('\n', index);
  return end < 0 ? input.length : end;
}

/** Reads a BigQuery string literal (single, double or triple quoted; backslash escapes). */
function readString(input: string, start: number): { text: string; end: number } {
  const quote = input[start] as string;
  const triple = input.startsWith(quote.repeat(3), start);
  const raw = /[rR]$/.test(input.slice(Math.max(0, start - 1), start));
  const close = triple ? quote.repeat(3) : quote;
  let index = start + close.length;
  let text = '';
  while (index < input.length) {
    if (input.startsWith(close, index)) return { text, end: index + close.length };
    const char = input[index] as string;
    if (char === '\\' && !raw && index + 1 < input.length) {
      const escaped = input[index + 1] as string;
      text += ESCAPES[escaped] ?? escaped;
      index += 2;
      continue;
    }
    text += char;
    index += 1;
  }
  throw new HttpError(400, 'Syntax error: Unclosed string literal');
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
