import type { Finding } from '../core/types.js';

/**
 * Parameter templates: literal text with `{{field}}` placeholders drawn from a fixed whitelist.
 * There are no expressions, filters or escapes, so a template can only copy a known field of the
 * finding; the rendered string is then validated by the remediation's params schema.
 */
export type TemplatePart =
  | { readonly literal: string }
  | { readonly field: 'metric' | 'value' | 'range.start_date' | 'range.end_date' }
  | { readonly label: string };

export type Template = readonly TemplatePart[];

const FIELDS = ['metric', 'value', 'range.start_date', 'range.end_date'] as const;
export const TEMPLATE_FIELDS_HELP = 'labels.<name>, metric, value, range.start_date, range.end_date';
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Compiles a template or returns a one-line problem. */
export function parseTemplate(text: string): Template | string {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const start = match.index;
    if (start > last) parts.push({ literal: text.slice(last, start) });
    const part = fieldPart(match[1] ?? '');
    if (!part) return `unknown template field "${match[1] ?? ''}" (known: ${TEMPLATE_FIELDS_HELP})`;
    parts.push(part);
    last = start + match[0].length;
  }
  if (last < text.length) parts.push({ literal: text.slice(last) });
  const stray = parts.find((part) => 'literal' in part && /\{\{|\}\}/.test(part.literal));
  if (stray) return `expected {{field}} placeholders only, got ${JSON.stringify(text)}`;
  return parts;
}

function fieldPart(name: string): TemplatePart | undefined {
  const label = /^labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(name);
  if (label?.[1]) return { label: label[1] };
  const field = FIELDS.find((known) => known === name);
  return field ? { field } : undefined;
}

export function isLiteral(template: Template): boolean {
  return template.every((part) => 'literal' in part);
}

/** Renders against a finding; returns `{ error }` when a field is missing or unrenderable. */
export function renderTemplate(template: Template, finding: Finding): { value: string } | { error: string } {
  let out = '';
  for (const part of template) {
    if ('literal' in part) out += part.literal;
    else if ('label' in part) {
      const value = finding.labels[part.label];
      if (value === undefined) return { error: `finding has no label "${part.label}"` };
      out += value;
    } else {
      const value = fieldValue(part.field, finding);
      if (value === undefined) return { error: `finding has no valid ${part.field}` };
      out += value;
    }
  }
  return { value: out };
}

function fieldValue(field: (typeof FIELDS)[number], finding: Finding): string | undefined {
  switch (field) {
    case 'metric':
      return finding.metric;
    case 'value':
      return Number.isFinite(finding.value) ? String(finding.value) : undefined;
    case 'range.start_date':
      return utcDate(finding.since);
    case 'range.end_date':
      return utcDate(finding.timestamp);
  }
}

/** The affected range is [since, timestamp], rendered as UTC calendar dates. */
function utcDate(ms: number): string | undefined {
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 10);
}
