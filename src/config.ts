import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { catalog, type PluginCatalog } from './catalog.js';
import { duration } from './core/duration.js';
import { ConfigError } from './core/errors.js';
import { type Environment, type InterpolationProblem, interpolate } from './core/interpolate.js';
import type { Registry } from './core/plugin.js';
import { closest, formatPath, type LocatedDocument, locateIssues, parseLocatedYaml } from './core/source.js';
import { detectorBinding, validateBindingOptions } from './detectors/binding.js';

/**
 * vigil's configuration: one YAML file, `${VAR}` / `${VAR:-default}` interpolation in any
 * string, then environment overrides (which win), then strict validation. Every problem is
 * reported at once as `file:line path: expected X, got Y`.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const pluginEntry = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected an id of lowercase letters, digits, ".", "_" or "-"')
    .optional(),
  kind: z.string().min(1),
  options: z.record(z.string(), z.unknown()).default({}),
});

const collectorEntry = pluginEntry.extend({
  interval: duration.default(60_000),
  cron: z.string().optional(),
  timeout: duration.default(30_000),
});

export const configSchema = z.strictObject({
  replica_id: z.string().min(1).default(`${hostname()}-${process.pid}`),
  redis: z
    .strictObject({
      url: z
        .string()
        .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
        .default('redis://127.0.0.1:6379'),
      key_prefix: z.string().min(1).default('vigil'),
      connect_timeout: duration.default(5_000),
      // Short, so vigil is back within seconds of Redis returning (the guarantee is 5 s).
      max_retry_delay: duration.default(2_000),
    })
    .prefault({}),
  http: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(9464),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
  shutdown_grace: duration.default(30_000),
  gcp: z
    .strictObject({
      project: z.string().min(1).optional(),
      region: z.string().min(1).default('us-west2'),
      // Empty means the real Google endpoints, so `${VIGIL_GCP_ENDPOINT:-}` works in one shared file.
      endpoint: z
        .union([z.literal(''), z.url({ protocol: /^https?$/ })])
        .optional()
        .transform((value) => (value === '' ? undefined : value)),
      timeout: duration.default(30_000),
    })
    .prefault({}),
  policy_file: z.string().min(1).optional(),
  collectors: z.array(collectorEntry).default([]),
  detectors: z.array(detectorBinding).default([]),
  history: z
    .strictObject({
      max_points: z.number().int().min(10).max(100_000).default(2_000),
      max_age: duration.default(90 * 86_400_000),
      read_points: z.number().int().min(2).max(100_000).default(400),
      cache_series: z.number().int().min(0).max(10_000_000).default(50_000),
    })
    .prefault({}),
  data_dir: z.string().min(1).default('.vigil'),
  remediations: z
    .strictObject({
      concurrency: z.number().int().min(1).max(64).default(2),
      attempts: z.number().int().min(1).max(20).default(3),
      verify_after: duration.default(15 * 60_000),
      // Checks of a change that has not taken yet (`not-yet`) before it counts as ineffective.
      verify_attempts: z.number().int().min(1).max(100).default(4),
      // Remediation jobs waiting at once; beyond it a decision is audited as skipped, never queued.
      max_queued: z.number().int().min(1).max(100_000).default(100),
      // First retry delay of a failed job (exponential after it).
      backoff: duration.default(5_000),
    })
    .prefault({}),
  notifiers: z.array(pluginEntry).default([]),
  /** More findings raised in one tick than this are announced as one storm summary. */
  notify: z.strictObject({ storm_threshold: z.number().int().min(1).default(10) }).prefault({}),
  metrics: z
    .strictObject({
      export_series: z.boolean().default(false),
      max_series: z.number().int().min(1).default(1_000),
    })
    .prefault({}),
});

export type Config = z.output<typeof configSchema> & {
  /** Absolute path of the file this config came from (policy_file is resolved against it). */
  readonly source: string;
};
export type CollectorEntry = z.output<typeof collectorEntry>;
export type PluginEntry = z.output<typeof pluginEntry>;

/** Environment variables that override file values. Documented in README "Configuration". */
const ENV_OVERRIDES: readonly {
  readonly name: string;
  readonly path: readonly string[];
  readonly number?: boolean;
}[] = [
  { name: 'VIGIL_REDIS_URL', path: ['redis', 'url'] },
  { name: 'VIGIL_KEY_PREFIX', path: ['redis', 'key_prefix'] },
  { name: 'VIGIL_HTTP_HOST', path: ['http', 'host'] },
  { name: 'VIGIL_HTTP_PORT', path: ['http', 'port'], number: true },
  { name: 'VIGIL_LOG_LEVEL', path: ['log', 'level'] },
  { name: 'VIGIL_POLICY_FILE', path: ['policy_file'] },
  { name: 'VIGIL_REPLICA_ID', path: ['replica_id'] },
  { name: 'VIGIL_DATA_DIR', path: ['data_dir'] },
  { name: 'VIGIL_GCP_ENDPOINT', path: ['gcp', 'endpoint'] },
  { name: 'VIGIL_GCP_PROJECT', path: ['gcp', 'project'] },
  { name: 'VIGIL_GCP_REGION', path: ['gcp', 'region'] },
];

export const ENV_OVERRIDE_NAMES: readonly string[] = [
  ...ENV_OVERRIDES.map((o) => o.name),
  'SLACK_WEBHOOK_URL',
];

/** Reads, interpolates, overrides and validates a config file. Throws ConfigError listing every problem. */
export async function loadConfig(
  file: string,
  env: Environment = process.env,
  plugins = catalog,
): Promise<Config> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigError(`cannot read config ${file}: ${reason}`, [], { cause: error });
  }
  return parseConfig(text, file, env, plugins, path);
}

/** Validates config text; `file` is only used in messages. */
export function parseConfig(
  text: string,
  file: string,
  env: Environment = process.env,
  plugins: PluginCatalog = catalog,
  absolutePath = resolve(file),
): Config {
  const doc = parseLocatedYaml(text, file);
  if (doc.syntaxErrors.length > 0) throw invalid(file, doc.syntaxErrors);
  const raw = doc.value ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid(file, [
      `${file}:1 (root): expected a mapping, got ${Array.isArray(raw) ? 'a list' : typeof raw}`,
    ]);
  }
  const interpolationProblems: InterpolationProblem[] = [];
  const interpolated = interpolate(raw, env, interpolationProblems) as Record<string, unknown>;
  const problems = interpolationProblems.map(
    (p) => `${file}:${doc.lineOf(p.path)} ${formatPath(p.path)}: ${p.message}`,
  );
  applyEnvOverrides(interpolated, env, problems);

  const parsed = configSchema.safeParse(interpolated);
  const located = { ...doc, value: interpolated };
  if (!parsed.success) {
    // A string emptied by a failed interpolation would be reported twice; the interpolation message is the cause.
    const unset = new Set(interpolationProblems.map((p) => formatPath(p.path)));
    const issues = parsed.error.issues.filter((issue) => !unset.has(formatPath(issue.path as PropertyKey[])));
    problems.push(...locateIssues(issues, located, configSchema));
  }
  problems.push(...validatePlugins(interpolated, located, plugins));
  if (problems.length > 0 || !parsed.success) throw invalid(file, sortByLine(problems));

  const config = parsed.data;
  const policyFile = config.policy_file ? resolve(dirname(absolutePath), config.policy_file) : undefined;
  return { ...config, policy_file: policyFile, source: absolutePath };
}

function invalid(file: string, problems: readonly string[]): ConfigError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new ConfigError(`${file}: ${count}`, problems);
}

function applyEnvOverrides(target: Record<string, unknown>, env: Environment, problems: string[]): void {
  for (const override of ENV_OVERRIDES) {
    const value = env[override.name];
    if (value === undefined || value === '') continue;
    let parsed: unknown = value;
    if (override.number) {
      parsed = Number(value);
      if (!Number.isInteger(parsed)) {
        problems.push(`environment ${override.name}: expected an integer, got ${JSON.stringify(value)}`);
        continue;
      }
    }
    setPath(target, override.path, parsed);
  }
  const webhook = env.SLACK_WEBHOOK_URL;
  if (webhook && Array.isArray(target.notifiers)) {
    for (const notifier of target.notifiers as Record<string, unknown>[]) {
      if (notifier?.kind !== 'slack') continue;
      notifier.options = { ...((notifier.options as object | undefined) ?? {}), webhook_url: webhook };
    }
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** Validates each plugin entry's options against its kind; runs on the raw value so it reports even when other sections fail. */
function validatePlugins(
  raw: Record<string, unknown>,
  doc: LocatedDocument,
  plugins: PluginCatalog,
): string[] {
  const problems: string[] = [];
  const sections = [
    ['collectors', plugins.collectors, 'collector'],
    ['notifiers', plugins.notifiers, 'notifier'],
  ] as const;
  for (const [section, registry, family] of sections) {
    const entries = raw[section];
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry: unknown, index) => {
      if (entry === null || typeof entry !== 'object' || typeof (entry as PluginEntry).kind !== 'string')
        return;
      problems.push(...validatePluginEntry(entry as PluginEntry, [section, index], registry, family, doc));
    });
  }
  problems.push(...duplicateIds(raw, doc));
  problems.push(...validateDetectorOptions(raw, doc));
  problems.push(...requireGcpProject(raw, doc));
  return problems;
}

/** Each binding's `use[i].options` against its detector kind, located in the file. */
function validateDetectorOptions(raw: Record<string, unknown>, doc: LocatedDocument): string[] {
  if (!Array.isArray(raw.detectors)) return [];
  return raw.detectors.flatMap((entry: unknown, index) => {
    const parsed = detectorBinding.safeParse(entry);
    if (!parsed.success) return [];
    return validateBindingOptions(parsed.data).flatMap((problem) =>
      locateIssues(problem.issues, doc, problem.schema, ['detectors', index, ...problem.path]),
    );
  });
}

const GCP_KINDS = new Set(['bigquery-sql', 'cloud-run-drift']);

/** Google collectors need a project; say so at the collector that needs it, not at the first tick. */
function requireGcpProject(raw: Record<string, unknown>, doc: LocatedDocument): string[] {
  const gcp = raw.gcp as { project?: unknown } | undefined;
  if (typeof gcp?.project === 'string' && gcp.project !== '') return [];
  const collectors = Array.isArray(raw.collectors) ? (raw.collectors as { kind?: unknown }[]) : [];
  const index = collectors.findIndex((entry) => typeof entry?.kind === 'string' && GCP_KINDS.has(entry.kind));
  if (index < 0) return [];
  const path = ['collectors', index, 'kind'];
  const kind = String(collectors[index]?.kind);
  return [
    `${doc.file}:${doc.lineOf(path)} gcp.project: required by ${formatPath(path)} (${kind}); set gcp.project or VIGIL_GCP_PROJECT`,
  ];
}

/** Metric names the config's detector bindings watch: what policy rules may refer to. */
export function configuredMetrics(config: Pick<Config, 'detectors'>): ReadonlySet<string> {
  return new Set(config.detectors.map((binding) => binding.metric));
}

function sortByLine(problems: readonly string[]): string[] {
  const lineOf = (problem: string): number => Number(/^[^\s]*?:(\d+) /.exec(problem)?.[1] ?? 0);
  return [...problems].sort((a, b) => lineOf(a) - lineOf(b));
}

function validatePluginEntry(
  entry: PluginEntry,
  path: readonly PropertyKey[],
  registry: Registry<{ kind: string; options: z.ZodType }>,
  family: string,
  doc: LocatedDocument,
): string[] {
  if (!registry.has(entry.kind)) {
    const hint = closest(entry.kind, registry.kinds);
    const known = registry.kinds.length > 0 ? registry.kinds.join(', ') : 'none';
    const suggestion = hint ? ` (did you mean "${hint}"?)` : ` (known: ${known})`;
    return [
      `${doc.file}:${doc.lineOf([...path, 'kind'])} ${formatPath([...path, 'kind'])}: unknown ${family} kind "${entry.kind}"${suggestion}`,
    ];
  }
  const schema = registry.get(entry.kind).options;
  const result = schema.safeParse(entry.options ?? {});
  return result.success ? [] : locateIssues(result.error.issues, doc, schema, [...path, 'options']);
}

function duplicateIds(raw: Record<string, unknown>, doc: LocatedDocument): string[] {
  const seen = new Map<string, number>();
  const problems: string[] = [];
  const collectors = Array.isArray(raw.collectors) ? (raw.collectors as { id?: unknown }[]) : [];
  collectors.forEach((entry, index) => {
    if (typeof entry?.id !== 'string') return;
    const first = seen.get(entry.id);
    if (first !== undefined) {
      const path = ['collectors', index, 'id'];
      problems.push(
        `${doc.file}:${doc.lineOf(path)} ${formatPath(path)}: duplicate id "${entry.id}" (first used by collectors[${first}])`,
      );
    } else seen.set(entry.id, index);
  });
  return problems;
}
