import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError, errorMessage } from '../core/errors.js';
import { type LocatedDocument, locateIssues, parseLocatedYaml } from '../core/source.js';
import { type CompileOptions, compilePolicy } from './compile.js';
import { PolicyFile } from './schema.js';
import type { PolicySnapshot } from './types.js';

export type LoadOptions = CompileOptions;

/** The outcome of loading one policy text: a snapshot, or every problem found, each located. */
export type LoadResult =
  | { readonly ok: true; readonly snapshot: PolicySnapshot }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Parse (YAML with line numbers) → validate (zod, strict) → compile (cross checks, templates,
 * matchers) → frozen snapshot. Never throws: any input, including a half-written file, yields
 * either a snapshot or problems. The watcher, the daemon and `vigil policy check` all use this.
 */
export function parsePolicy(text: string, file: string, options: LoadOptions = {}): LoadResult {
  const doc = parseYaml(text, file);
  if (typeof doc === 'string') return { ok: false, problems: [doc] };
  if (doc.syntaxErrors.length > 0) return { ok: false, problems: byLine(doc.syntaxErrors, file) };
  if (doc.value === undefined || doc.value === null) {
    return {
      ok: false,
      problems: [`${file}:1 (root): the policy file is empty (expected at least "mode:")`],
    };
  }
  const parsed = PolicyFile.safeParse(doc.value);
  if (!parsed.success) {
    return { ok: false, problems: byLine(locateIssues(parsed.error.issues, doc, PolicyFile), file) };
  }
  const hash = createHash('sha256').update(text).digest('hex');
  const compiled = compilePolicy(parsed.data, doc, hash, options);
  if ('problems' in compiled) return { ok: false, problems: byLine(compiled.problems, file) };
  return { ok: true, snapshot: compiled.snapshot };
}

/** Like parsePolicy, but throws a ConfigError carrying every problem (for startup and the CLI). */
export function loadPolicy(text: string, file: string, options: LoadOptions = {}): PolicySnapshot {
  const result = parsePolicy(text, file, options);
  if (result.ok) return result.snapshot;
  const count = result.problems.length;
  throw new ConfigError(
    `policy ${file} is invalid (${count} problem${count === 1 ? '' : 's'})`,
    result.problems,
  );
}

/** Reads and parses a policy file; an unreadable file is reported like any other problem. */
export async function readPolicyFile(file: string, options: LoadOptions = {}): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { ok: false, problems: [`${file}:1 (root): cannot read the policy file: ${errorMessage(error)}`] };
  }
  return parsePolicy(text, file, options);
}

function parseYaml(text: string, file: string): LocatedDocument | string {
  try {
    return parseLocatedYaml(text, file);
  } catch (error) {
    // The yaml library throws (rather than reporting) on alias bombs and similar pathologies.
    return `${file}:1 (root): cannot read YAML: ${errorMessage(error).split('\n')[0]}`;
  }
}

/**
 * Orders problems by line so a human can fix the file top to bottom (stable for equal lines),
 * and keeps each on one line even when it quotes a key that contains a line break.
 */
function byLine(problems: readonly string[], file: string): string[] {
  const lineOf = (problem: string): number => Number.parseInt(problem.slice(file.length + 1), 10) || 0;
  return [...problems]
    .sort((a, b) => lineOf(a) - lineOf(b))
    .map((problem) => problem.replace(/\r\n|\r|\n/g, '\\n'));
}
