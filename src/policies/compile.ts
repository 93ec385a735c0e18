import { closest, formatPath, type LocatedDocument, locateIssues } from '../core/source.js';
import { remediationRegistry } from '../remediations/index.js';
import { disjoint, type Matcher } from './matchers.js';
import { DEFAULT_REMEDIATION_SETTINGS, type Override, type PolicyFile, type Rule } from './schema.js';
import { isLiteral, parseTemplate, type Template } from './templates.js';
import type { CompiledOverride, CompiledRule, PolicySnapshot } from './types.js';

export interface CompileOptions {
  /** Metric names produced by the config's detectors; rules on any other metric are rejected. */
  readonly knownMetrics?: ReadonlySet<string> | undefined;
}

/**
 * Checks what a schema cannot see on its own (ids unique across a list, params against the
 * remediation kind, templates, metrics from the config, contradicting overrides) and builds the
 * frozen snapshot. Returns located problems instead when anything is wrong.
 */
export function compilePolicy(
  policy: PolicyFile,
  doc: LocatedDocument,
  hash: string,
  options: CompileOptions,
): { snapshot: PolicySnapshot } | { problems: string[] } {
  const problems: string[] = [];
  const locate = (path: readonly PropertyKey[], message: string): void => {
    problems.push(`${doc.file}:${doc.lineOf(path)} ${formatPath(path)}: ${message}`);
  };
  checkUnique(policy.rules, 'rules', 'id', doc, locate);
  checkUnique(policy.overrides, 'overrides', 'id', doc, locate);
  checkUnique(policy.maintenance_windows, 'maintenance_windows', 'name', doc, locate);
  const rules = policy.rules.map((rule, index) => {
    checkMetric(rule, index, options.knownMetrics, locate);
    return compileRule(rule, index, doc, problems, locate);
  });
  const overrides = policy.overrides.map((override, index) => compileOverride(override, index, doc));
  checkContradictions(overrides, locate);
  if (problems.length > 0) return { problems };
  const snapshot: PolicySnapshot = {
    file: doc.file,
    hash,
    mode: policy.mode,
    remediations: Object.fromEntries(
      remediationRegistry.kinds.map((kind) => [
        kind,
        policy.remediations[kind] ?? DEFAULT_REMEDIATION_SETTINGS,
      ]),
    ),
    rules,
    overrides,
    maintenanceWindows: policy.maintenance_windows.map((window) => ({
      name: window.name,
      cron: window.cron,
      timezone: window.timezone,
      durationMs: window.duration,
      remediations: window.remediations,
    })),
    doNotDeploy: policy.do_not_deploy,
    source: policy,
  };
  return { snapshot: deepFreeze(snapshot) };
}

type Locate = (path: readonly PropertyKey[], message: string) => void;

function checkUnique<Item>(
  items: readonly Item[],
  section: string,
  key: keyof Item & string,
  doc: LocatedDocument,
  locate: Locate,
): void {
  const seen = new Map<unknown, number>();
  items.forEach((item, index) => {
    const value = item[key];
    const first = seen.get(value);
    if (first === undefined) seen.set(value, index);
    else {
      const line = doc.lineOf([section, first, key]);
      locate([section, index, key], `duplicate ${key} ${JSON.stringify(value)} (first used at line ${line})`);
    }
  });
}

function checkMetric(
  rule: Rule,
  index: number,
  known: ReadonlySet<string> | undefined,
  locate: Locate,
): void {
  if (!known || known.has(rule.match.metric)) return;
  const hint = closest(rule.match.metric, [...known]);
  const suffix = hint ? ` (did you mean "${hint}"?)` : ` (known: ${[...known].sort().join(', ') || 'none'})`;
  locate(
    ['rules', index, 'match', 'metric'],
    `unknown metric "${rule.match.metric}": no detector in the config produces it${suffix}`,
  );
}

function compileRule(
  rule: Rule,
  index: number,
  doc: LocatedDocument,
  problems: string[],
  locate: Locate,
): CompiledRule {
  const base = ['rules', index, 'action', 'params'];
  const params: Record<string, Template> = {};
  const templated = new Set<string>();
  for (const [key, text] of Object.entries(rule.action.params)) {
    const parsed = parseTemplate(text);
    if (typeof parsed === 'string') locate([...base, key], parsed);
    else params[key] = parsed;
    if (typeof parsed === 'string' || !isLiteral(parsed)) templated.add(key);
  }
  // Literal params are validated now. Templated ones can only be checked once rendered: they are
  // passed as undefined so the schema still reports unknown keys, and their issues are dropped.
  const definition = remediationRegistry.get(rule.action.kind);
  const trial = Object.fromEntries(
    Object.entries(rule.action.params).map(([key, text]) => [key, templated.has(key) ? undefined : text]),
  );
  const result = definition.params.safeParse(trial);
  if (!result.success) {
    const issues = result.error.issues.filter((issue) => {
      const head = issue.path[0];
      return !(typeof head === 'string' && templated.has(head));
    });
    problems.push(...locateIssues(issues, doc, definition.params, base));
  }
  return {
    id: rule.id,
    index,
    metric: rule.match.metric,
    labels: rule.match.labels,
    severity: rule.match.severity,
    detector: rule.match.detector,
    state: rule.match.state,
    minDurationMs: rule.match.min_duration,
    kind: rule.action.kind,
    params,
    mode: rule.mode,
    continue: rule.continue,
  };
}

function compileOverride(override: Override, index: number, doc: LocatedDocument): CompiledOverride {
  return {
    id: override.id,
    line: doc.lineOf(['overrides', index]),
    remediation: override.match.remediation,
    target: override.match.target,
    labels: override.match.labels,
    effect: override.effect,
    startsAt: override.starts_at ?? null,
    endsAt: override.ends_at,
    createdBy: override.created_by,
    reason: override.reason,
  };
}

/** Two overrides that can select the same remediation at the same time must agree on the effect. */
function checkContradictions(overrides: readonly CompiledOverride[], locate: Locate): void {
  overrides.forEach((later, j) => {
    for (const earlier of overrides.slice(0, j)) {
      if (earlier.effect === later.effect || !overlaps(earlier, later)) continue;
      locate(
        ['overrides', j],
        `contradicts override "${earlier.id}" (line ${earlier.line}): both can select the same remediation ` +
          `at the same time with effects ${earlier.effect} and ${later.effect}; narrow the selectors or the times`,
      );
    }
  });
}

function overlaps(a: CompiledOverride, b: CompiledOverride): boolean {
  const start = Math.max(a.startsAt ?? Number.NEGATIVE_INFINITY, b.startsAt ?? Number.NEGATIVE_INFINITY);
  if (start >= Math.min(a.endsAt, b.endsAt)) return false;
  if (a.remediation && b.remediation && a.remediation !== b.remediation) return false;
  if (a.target && b.target && a.target !== b.target) return false;
  return !disjoint(a.labels as Matcher[], b.labels as Matcher[]);
}

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value) || value instanceof RegExp)
    return value;
  for (const inner of Object.values(value)) deepFreeze(inner);
  return Object.freeze(value);
}
