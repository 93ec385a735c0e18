import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { formatPath } from '../core/source.js';
import type { Labels, Verdict } from '../core/types.js';
import { detectorRegistry } from './index.js';
import { type CombineMode, combineMode, combineVerdicts } from './lib/combine.js';
import { applyDataRules, type DataRules, minChange } from './lib/data-rules.js';
import { type HysteresisOptions, hysteresisOptions } from './lib/hysteresis.js';
import type { Detector, EvaluatedPoint, SeriesHistory } from './types.js';

/** One `use:` entry: a detector kind and its options (validated per kind by validateBindingOptions). */
export const detectorUse = z.strictObject({
  kind: z.string().min(1),
  options: z.record(z.string(), z.unknown()).default({}),
});

/** One entry of the config file's top-level `detectors:` list. */
export const detectorBinding = z.strictObject({
  /**
   * Stable identity of the binding: its detection state and finding ids are keyed by it, so moving
   * the binding in the list keeps open episodes. Default: a hash of metric, labels and use.
   */
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only')
    .optional(),
  metric: z.string().min(1),
  labels: z.record(z.string(), z.string()).optional(),
  combine: combineMode.default('any'),
  hysteresis: hysteresisOptions.prefault({}),
  exclude_anomalies_from_baseline: z.boolean().default(true),
  /** Relative change floor: below `min_change` × |baseline| no verdict is anomalous (`5%` or 0.05). */
  min_change: minChange.default(0),
  /** A value of exactly 0 is critical (a table that should never be empty). */
  fail_on_zero: z.boolean().default(false),
  /** Without `use:`, the series gets the default detector, `auto`. */
  use: z
    .array(detectorUse)
    .min(1)
    .default([{ kind: 'auto', options: {} }]),
});

export type DetectorBinding = z.infer<typeof detectorBinding>;

/**
 * Problems in one `use[i]` entry, relative to `path` inside the binding. `schema` is the schema
 * the issues were found against, so a loader can call
 * `locateIssues(issues, doc, schema, ['detectors', j, ...path])` for `file:line path: message`.
 */
export interface OptionProblems {
  readonly path: readonly PropertyKey[];
  readonly schema: z.ZodType;
  readonly issues: readonly z.core.$ZodIssue[];
}

/** Validates every `use[i].options` against its kind's schema; unknown kinds are reported too. */
export function validateBindingOptions(binding: DetectorBinding): OptionProblems[] {
  const problems: OptionProblems[] = [];
  binding.use.forEach((use, index) => {
    if (!detectorRegistry.has(use.kind)) {
      const message = `unknown detector kind "${use.kind}" (known: ${detectorRegistry.kinds.join(', ')})`;
      problems.push({
        path: ['use', index, 'kind'],
        schema: detectorUse.shape.kind,
        issues: [{ code: 'custom', path: [], message, input: use.kind }],
      });
      return;
    }
    const schema = detectorRegistry.get(use.kind).options;
    const parsed = schema.safeParse(use.options);
    if (!parsed.success)
      problems.push({ path: ['use', index, 'options'], schema, issues: parsed.error.issues });
  });
  return problems;
}

/** A binding ready to evaluate: detectors created, options parsed. */
export interface CompiledBinding {
  /** The binding's identity (`id:` or a hash of its content): keys detection state and findings. */
  readonly id: string;
  readonly metric: string;
  readonly labels: Labels;
  readonly combine: CombineMode;
  readonly hysteresis: HysteresisOptions;
  readonly excludeAnomalies: boolean;
  readonly rules: DataRules;
  readonly detectors: readonly Detector[];
}

/** Creates the binding's detectors; throws a ConfigError listing every bad option (path: message). */
export function compileBinding(binding: DetectorBinding): CompiledBinding {
  const problems = validateBindingOptions(binding);
  if (problems.length > 0) {
    const lines = problems.flatMap((problem) =>
      problem.issues.map((issue) => `${formatPath([...problem.path, ...issue.path])}: ${issue.message}`),
    );
    throw new ConfigError(`invalid detector options for ${binding.metric}`, lines);
  }
  const detectors = binding.use.map((use) => {
    const definition = detectorRegistry.get(use.kind);
    return definition.create(definition.options.parse(use.options), { metric: binding.metric });
  });
  return {
    id: bindingId(binding),
    metric: binding.metric,
    labels: binding.labels ?? {},
    combine: binding.combine,
    hysteresis: binding.hysteresis,
    excludeAnomalies: binding.exclude_anomalies_from_baseline,
    rules: { minChange: binding.min_change, failOnZero: binding.fail_on_zero },
    detectors,
  };
}

/**
 * A binding's identity: its `id:`, else `b-` and a hash of what it watches and how it judges
 * (metric, labels, detectors with their options), never its position in the list: inserting a
 * binding above it must not reset its hysteresis, rename its open findings or orphan approvals.
 */
export function bindingId(binding: Pick<DetectorBinding, 'id' | 'metric' | 'labels' | 'use'>): string {
  if (binding.id !== undefined) return binding.id;
  const content = canonicalJson({ metric: binding.metric, labels: binding.labels ?? {}, use: binding.use });
  return `b-${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
}

/** JSON with object keys sorted at every level, so equal content gives equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Evaluates one point of one series with every detector of a binding and combines the verdicts.
 * With `exclude_anomalies_from_baseline: false` the anomaly mask is dropped, so flagged points
 * count in baselines; otherwise the caller's mask is honoured. Pure, like the detectors.
 */
export function evaluateBinding(
  binding: CompiledBinding,
  history: SeriesHistory,
  point: EvaluatedPoint,
): Verdict {
  const input: SeriesHistory = binding.excludeAnomalies
    ? history
    : { timestamps: history.timestamps, values: history.values };
  const verdict =
    binding.detectors.length === 1
      ? (binding.detectors[0] as Detector).evaluate(input, point)
      : combineVerdicts(
          binding.detectors.map((detector) => detector.evaluate(input, point)),
          binding.combine,
        );
  const { rules } = binding;
  // The common case, no rule set: the verdict as it is (no copy, its reason still lazy).
  if (rules.minChange === 0 && !rules.failOnZero) return verdict;
  return applyDataRules(verdict, point.value, rules);
}

/** Does the binding apply to this series? Metric equal, and every binding label present and equal. */
export function bindingMatches(
  binding: Pick<DetectorBinding, 'metric' | 'labels'>,
  metric: string,
  labels: Labels,
): boolean {
  if (binding.metric !== metric) return false;
  // A loop, not Object.entries().every(): a tick asks this for every series it collects.
  for (const name in binding.labels) if (labels[name] !== binding.labels[name]) return false;
  return true;
}

/** Parses a series name `metric` or `metric{k="v",k2="v2"}` into metric and labels; undefined if malformed. */
export function parseSeriesName(name: string): { metric: string; labels: Labels } | undefined {
  const match = /^([A-Za-z_:][A-Za-z0-9_:.-]*)(?:\{(.*)\})?$/.exec(name.trim());
  if (!match) return undefined;
  const labels: Record<string, string> = {};
  const body = match[2]?.trim() ?? '';
  if (body !== '') {
    for (const part of body.split(',')) {
      const pair = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"\s*$/.exec(part);
      if (!pair) return undefined;
      labels[pair[1] as string] = pair[2] as string;
    }
  }
  return { metric: match[1] as string, labels };
}
