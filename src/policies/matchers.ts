import type { Labels } from '../core/types.js';

/** A label matcher in Prometheus/Alertmanager syntax. Regexes are anchored, as in Prometheus. */
export interface Matcher {
  readonly name: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
  readonly regex?: RegExp;
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** Parses `name=value`, `name!=value`, `name=~regex`, `name!~regex`; returns an error text otherwise. */
export function parseMatcher(text: string): Matcher | string {
  const match = MATCHER.exec(text);
  if (!match) {
    return `expected a label matcher like service=nba-phase4, env!=dev or model=~"catboost.*", got ${JSON.stringify(text)}`;
  }
  const [, name = '', op = '=', raw = ''] = match;
  const value = unquote(raw);
  if (value === undefined) return `expected a properly quoted value in matcher ${JSON.stringify(text)}`;
  const operator = op as Matcher['op'];
  if (operator === '=' || operator === '!=') return { name, op: operator, value };
  try {
    return { name, op: operator, value, regex: new RegExp(`^(?:${value})$`) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return `expected a valid regular expression in matcher ${JSON.stringify(text)} (${detail})`;
  }
}

function unquote(raw: string): string | undefined {
  if (!raw.startsWith('"')) return raw;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A missing label matches as the empty string, as in Prometheus. */
export function matches(matcher: Matcher, labels: Labels): boolean {
  const actual = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return matcher.regex?.test(actual) ?? false;
    case '!~':
      return !(matcher.regex?.test(actual) ?? true);
  }
}

export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((matcher) => matches(matcher, labels));
}

/**
 * True when two matcher sets can never select the same labels. Conservative: only equality
 * matchers on the same name with different values (or `=` vs `!=` of the same value) are
 * provably disjoint; anything else is treated as possibly overlapping.
 */
export function disjoint(a: readonly Matcher[], b: readonly Matcher[]): boolean {
  for (const left of a) {
    for (const right of b) {
      if (left.name !== right.name) continue;
      if (left.op === '=' && right.op === '=' && left.value !== right.value) return true;
      if (left.op === '=' && right.op === '!=' && left.value === right.value) return true;
      if (left.op === '!=' && right.op === '=' && left.value === right.value) return true;
      if (left.op === '=' && right.regex && !right.regex.test(left.value) === (right.op === '=~'))
        return true;
      if (right.op === '=' && left.regex && !left.regex.test(right.value) === (left.op === '=~')) return true;
    }
  }
  return false;
}

export function formatMatcher(matcher: Matcher): string {
  return `${matcher.name}${matcher.op}${JSON.stringify(matcher.value)}`;
}
