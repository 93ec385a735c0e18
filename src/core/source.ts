import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { scrubSecrets } from './logger.js';

/**
 * YAML parsed with positions kept, so validation problems can be reported as
 * `file:line path: expected X, got Y`. Shared by the config and the policy loader.
 */
export interface LocatedDocument {
  readonly file: string;
  /** The plain JS value of the document (undefined for an empty file). */
  readonly value: unknown;
  /** YAML syntax errors, already located. */
  readonly syntaxErrors: readonly string[];
  /** 1-based line of the node at `path`, or of its closest existing ancestor. */
  lineOf(path: readonly PropertyKey[]): number;
  /** 1-based line of the key `key` inside the map at `path` (for unknown-key errors). */
  keyLineOf(path: readonly PropertyKey[], key: string): number;
}

export function parseLocatedYaml(text: string, file: string): LocatedDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number | undefined): number =>
    offset === undefined ? 1 : lineCounter.linePos(offset).line;
  const syntaxErrors = doc.errors.map(
    (error) => `${file}:${lineAt(error.pos[0])} ${error.message.split('\n')[0] ?? 'invalid YAML'}`,
  );
  if (syntaxErrors.length === 0)
    syntaxErrors.push(...structureProblems(doc, (offset) => `${file}:${lineAt(offset)}`));
  let value: unknown;
  if (syntaxErrors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (error) {
      // A backstop: structureProblems should have refused whatever the yaml library cannot expand.
      syntaxErrors.push(`${file}:1 cannot expand the YAML: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return {
    file,
    value,
    syntaxErrors,
    lineOf: (path) => lineAt(nodeOffset(doc, path)),
    keyLineOf: (path, key) => lineAt(nodeOffset(doc, [...path, key])),
  };
}

/** Aliases are for sharing a block, not for graphs: more than this many is refused (billion laughs). */
export const MAX_ALIASES = 100;

/**
 * Structures the yaml library would crash on, expand without bound or mangle, each located: a
 * mapping or list used as a key; an alias that names no earlier anchor (a ReferenceError
 * otherwise), one inside the node it points to (a cyclic value that overflows the stack of
 * every later walk), and too many of them.
 */
function structureProblems(doc: Document, at: (offset: number | undefined) => string): string[] {
  const problems: string[] = [];
  let count = 0;
  visit(doc, {
    Pair(_key, pair) {
      // yaml would stringify a mapping or list used as a key (with a process warning): refuse it.
      if (pair.key !== null && typeof pair.key === 'object' && !isScalar(pair.key) && !isAlias(pair.key))
        problems.push(
          `${at((pair.key as { range?: [number] }).range?.[0])} a key must be a plain value, not a mapping or list`,
        );
    },
    Alias(_key, alias, path) {
      count++;
      const where = at(alias.range?.[0]);
      if (count === MAX_ALIASES + 1)
        problems.push(`${where} too many YAML aliases (more than ${MAX_ALIASES}); write the values out`);
      if (count > MAX_ALIASES) return;
      const target = alias.resolve(doc);
      if (!target)
        problems.push(
          `${where} YAML alias *${alias.source} names no anchor &${alias.source} defined before it`,
        );
      else if (path.includes(target as never))
        problems.push(`${where} YAML alias *${alias.source} is inside the node it refers to (a cycle)`);
    },
  });
  return problems;
}

/**
 * Offset of the deepest existing entry on `path`: the key of a mapping entry (where a human
 * looks for it), or the item of a sequence. A missing key is thus reported at its parent key.
 */
function nodeOffset(doc: Document, path: readonly PropertyKey[]): number | undefined {
  for (let depth = path.length; depth >= 1; depth--) {
    const parentPath = path
      .slice(0, depth - 1)
      .map((part) => (typeof part === 'number' ? part : String(part)));
    const parent = depth === 1 ? doc.contents : doc.getIn(parentPath, true);
    const last = path[depth - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(last));
      const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (range) return range[0];
    } else if (isSeq(parent) && typeof last === 'number') {
      const item = parent.items[last] as { range?: [number, number, number] } | undefined;
      if (item?.range) return item.range[0];
    }
  }
  return (doc.contents as { range?: [number, number, number] } | null)?.range?.[0];
}

/** Renders a path as `collectors[0].options.sql`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Turns zod issues into located one-line problems. `base` prefixes every path when the
 * validated value sits inside the document (plugin options validated in a second pass).
 */
export function locateIssues(
  issues: readonly z.core.$ZodIssue[],
  doc: LocatedDocument,
  schema: z.ZodType,
  base: readonly PropertyKey[] = [],
): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    const local = issue.path as PropertyKey[];
    const path = [...base, ...local];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, local);
      for (const key of issue.keys) {
        const hint = closest(key, known);
        const suffix = hint
          ? ` (did you mean "${hint}"?)`
          : known.length > 0
            ? ` (known keys: ${known.join(', ')})`
            : '';
        problems.push(
          `${doc.file}:${doc.keyLineOf(path, key)} ${formatPath([...path, key])}: unknown key${suffix}`,
        );
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest instead of an opaque "invalid input".
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      const nested = best.map((inner) => ({ ...inner, path: [...local, ...inner.path] }));
      if (nested.length > 0) {
        problems.push(...locateIssues(nested as z.core.$ZodIssue[], doc, schema, base));
        continue;
      }
    }
    const actual = valueAt(doc.value, path);
    const shown = SECRET_KEYS.has(String(path[path.length - 1])) ? { found: true, value: HIDDEN } : actual;
    problems.push(`${doc.file}:${doc.lineOf(path)} ${formatPath(path)}: ${describeIssue(issue, shown)}`);
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, actual: { found: boolean; value: unknown }): string {
  const got = actual.found ? describeValue(actual.value) : 'nothing (required key is missing)';
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, got ${got}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(' | ')}, got ${got}`;
    case 'too_small':
      if (issue.origin === 'string')
        return `expected a string of at least ${String(issue.minimum)} characters, got ${got}`;
      return `expected ${issue.origin === 'array' ? 'at least' : '>='} ${String(issue.minimum)}${issue.origin === 'array' ? ' items' : ''}, got ${got}`;
    case 'too_big':
      return `expected ${issue.origin === 'array' ? 'at most' : '<='} ${String(issue.maximum)}${issue.origin === 'array' ? ' items' : ''}, got ${got}`;
    case 'invalid_format':
      // A schema's own message ("expected a redis:// or rediss:// URL") says more than "regex".
      return `${issue.message.startsWith('Invalid') ? `expected ${issue.format}` : issue.message}, got ${got}`;
    default:
      return issue.message;
  }
}

/** Keys whose values are secrets: a problem with one says what is wrong, never what it holds. */
const SECRET_KEYS: ReadonlySet<string> = new Set([
  'webhook_url',
  'password',
  'token',
  'secret',
  'credentials',
]);
const HIDDEN = Symbol('hidden');

function describeValue(value: unknown): string {
  if (value === HIDDEN) return 'a value not shown (it is a secret)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    // Scrubbed before shortening, so a cut cannot hide a credential from the pattern.
    const text = scrubSecrets(value);
    return `string ${JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)}`;
  }
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let current: unknown = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object' || !(part in (current as object))) {
      return { found: false, value: undefined };
    }
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return { found: true, value: current };
}

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** Collects the object keys a schema accepts at `path` (best effort, for "did you mean"). */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  const visit = (node: z.ZodType, rest: readonly PropertyKey[], depth: number): void => {
    if (depth > 32) return;
    const def = defOf(node);
    const inner = def.innerType ?? def.in ?? def.getter?.();
    if (inner) {
      visit(inner, rest, depth + 1);
      return;
    }
    if (def.options) {
      for (const option of def.options) visit(option, rest, depth + 1);
      return;
    }
    if (rest.length === 0) {
      if (def.shape) for (const key of Object.keys(def.shape)) keys.add(key);
      return;
    }
    const [head, ...tail] = rest;
    if (def.shape && typeof head === 'string' && def.shape[head]) visit(def.shape[head], tail, depth + 1);
    else if (def.element && typeof head === 'number') visit(def.element, tail, depth + 1);
    else if (def.valueType) visit(def.valueType, tail, depth + 1);
  };
  visit(schema, path, 0);
  return [...keys].sort();
}

/** The known key within edit distance 2 (or a third of its length) of `key`, if any. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] as number;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] as number;
}
