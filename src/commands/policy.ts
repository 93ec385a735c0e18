import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { configuredMetrics, loadConfig } from '../config.js';
import { type Clock, systemClock } from '../core/clock.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { type Finding, seriesKey } from '../core/types.js';
import { candidatesFor, evaluate, formatDecision } from '../policies/evaluate.js';
import { overrideState } from '../policies/gates/override.js';
import { readPolicyFile } from '../policies/load.js';
import { policyJsonSchema } from '../policies/schema.js';
import { formatTime } from '../policies/time.js';
import {
  type Counters,
  counterKey,
  type PolicySnapshot,
  ZERO_KIND_COUNTERS,
  ZERO_TARGET_COUNTERS,
} from '../policies/types.js';
import { contractAction } from './contract.js';

/** Where a command writes; injected so tests read exactly what a human would see. */
export interface CommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** Exit codes: 0 fine, 2 invalid input (a policy, a config or an argument). */
export const EXIT_OK = 0;
export const EXIT_INVALID = 2;

/** `vigil policy check FILE [--config FILE]`: the loader the daemon uses, offline. */
export async function runPolicyCheck(
  file: string,
  options: { config?: string | undefined; json?: boolean | undefined },
  io: CommandIo,
  clock: Clock = systemClock,
): Promise<number> {
  const known = options.config ? await readKnownMetrics(options.config) : undefined;
  if (known && 'problems' in known) return fail(io, known.problems);
  const result = await readPolicyFile(file, { knownMetrics: known?.metrics });
  if (!result.ok) return fail(io, result.problems);
  const { snapshot } = result;
  const now = clock.now();
  for (const override of snapshot.overrides) {
    const state = overrideState(override, now);
    if (state === 'active') continue;
    const when = state === 'expired' ? `expired at ${formatTime(override.endsAt, now)}` : 'is pending';
    const advice = state === 'expired' ? '; delete it' : '';
    io.stderr.write(`${file}:${override.line} warning: override "${override.id}" ${when}${advice}\n`);
  }
  io.stdout.write(
    options.json
      ? `${JSON.stringify({ file, ok: true, mode: snapshot.mode, rules: snapshot.rules.length, overrides: snapshot.overrides.length, maintenance_windows: snapshot.maintenanceWindows.length, sha256: snapshot.hash })}\n`
      : `${file}: ok (${summary(snapshot)})\n`,
  );
  return EXIT_OK;
}

function summary(snapshot: PolicySnapshot): string {
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  return [
    `mode ${snapshot.mode}`,
    plural(snapshot.rules.length, 'rule'),
    plural(snapshot.overrides.length, 'override'),
    plural(snapshot.maintenanceWindows.length, 'maintenance window'),
    `sha256 ${snapshot.hash.slice(0, 12)}`,
  ].join(', ');
}

/** The metric names the config's detector bindings watch, through the daemon's config loader. */
async function readKnownMetrics(
  file: string,
): Promise<{ metrics: ReadonlySet<string> } | { problems: string[] }> {
  try {
    return { metrics: configuredMetrics(await loadConfig(file)) };
  } catch (error) {
    if (error instanceof ConfigError)
      return { problems: error.problems.length > 0 ? [...error.problems] : [error.message] };
    return { problems: [`${file}: ${errorMessage(error)}`] };
  }
}

function fail(io: CommandIo, problems: readonly string[]): number {
  for (const problem of problems) io.stderr.write(`${problem}\n`);
  return EXIT_INVALID;
}

const EpochOrIso = z.union([
  z.number(),
  z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)),
]);

/** The finding given to `explain`: only metric is required, everything else has a readable default. */
const ExplainFinding = z.strictObject({
  id: z.string().default('explain'),
  metric: z.string().min(1),
  labels: z.record(z.string(), z.string()).default({}),
  timestamp: EpochOrIso.optional(),
  since: EpochOrIso.optional(),
  value: z.number().default(0),
  state: z.enum(['raised', 'ongoing', 'cleared']).default('raised'),
  severity: z.enum(['ok', 'warning', 'critical', 'insufficient-history']).default('critical'),
  detector: z.string().default('explain'),
});

const ExplainCounters = z.strictObject({
  targets: z
    .record(
      z.string(),
      z.strictObject({
        lastRunAt: EpochOrIso.nullable().default(null),
        runsLastHour: z.int().min(0).default(0),
        runsLastDay: z.int().min(0).default(0),
        consecutiveFailures: z.int().min(0).default(0),
        breakerOpenUntil: EpochOrIso.nullable().default(null),
      }),
    )
    .default({}),
  kinds: z
    .record(z.string(), z.strictObject({ runsLastHour: z.int().min(0), runsLastDay: z.int().min(0) }))
    .default({}),
});

export interface ExplainOptions {
  readonly policy: string;
  /** JSON text, or `@path` to a JSON file. */
  readonly finding: string;
  readonly counters?: string | undefined;
  readonly at?: string | undefined;
  readonly approved?: boolean | undefined;
  readonly json?: boolean | undefined;
}

/** `vigil policy explain`: prints each decision and its gate trail for one finding. */
export async function runPolicyExplain(
  options: ExplainOptions,
  io: CommandIo,
  clock: Clock = systemClock,
): Promise<number> {
  const loaded = await readPolicyFile(options.policy);
  if (!loaded.ok) return fail(io, loaded.problems);
  const now = options.at === undefined ? clock.now() : Date.parse(options.at);
  if (!Number.isFinite(now))
    return fail(io, [`--at: expected an RFC 3339 time, got ${JSON.stringify(options.at)}`]);
  const finding = await parseJsonArg('--finding', options.finding, ExplainFinding);
  if ('problems' in finding) return fail(io, finding.problems);
  const counters = options.counters
    ? await parseJsonArg('--counters', options.counters, ExplainCounters)
    : undefined;
  if (counters && 'problems' in counters) return fail(io, counters.problems);
  const full = toFinding(finding.value, now);
  const snapshot = loaded.snapshot;
  const decisions = evaluate(full, snapshot, now, withZeros(counters?.value, full, snapshot), {
    approved: options.approved === true,
  });
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ policy: snapshot.file, sha256: snapshot.hash, at: now, finding: full, decisions })}\n`,
    );
    return EXIT_OK;
  }
  io.stdout.write(
    `policy ${snapshot.file} (sha256 ${snapshot.hash.slice(0, 12)}) at ${new Date(now).toISOString()}\n`,
  );
  io.stdout.write(`finding ${full.series} ${full.state}, value ${full.value}, ${full.verdict.severity}\n`);
  for (const decision of decisions) {
    io.stdout.write(`${formatDecision(decision)}\n`);
    if (decision.params) {
      const params = Object.entries(decision.params).map(([key, value]) => `${key}=${value}`);
      io.stdout.write(`  params: ${params.join(' ')}\n`);
    }
    for (const [index, entry] of (decision.gates ?? []).entries()) {
      io.stdout.write(
        `  ${String(index + 1).padStart(2)}. ${entry.gate.padEnd(12)} ${entry.result.padEnd(14)} ${entry.reason}\n`,
      );
    }
  }
  return EXIT_OK;
}

async function parseJsonArg<T>(
  name: string,
  text: string,
  schema: z.ZodType<T>,
): Promise<{ value: T } | { problems: string[] }> {
  let raw: unknown;
  try {
    raw = JSON.parse(text.startsWith('@') ? await readFile(text.slice(1), 'utf8') : text);
  } catch (error) {
    return { problems: [`${name}: expected JSON (or @file.json): ${errorMessage(error)}`] };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { value: parsed.data };
  return {
    problems: parsed.error.issues.map(
      (issue) => `${name} ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    ),
  };
}

function toFinding(input: z.output<typeof ExplainFinding>, now: number): Finding {
  const timestamp = input.timestamp ?? now;
  return {
    id: input.id,
    series: seriesKey(input.metric, input.labels),
    metric: input.metric,
    labels: input.labels,
    timestamp,
    value: input.value,
    state: input.state,
    since: input.since ?? timestamp,
    verdict: {
      detector: input.detector,
      anomalous: input.severity === 'warning' || input.severity === 'critical',
      severity: input.severity,
      score: 1,
      statistic: null,
      baseline: null,
      reason: 'given to vigil policy explain',
    },
  };
}

/** Counters not given on the command line are taken as empty (nothing ran, breaker closed). */
function withZeros(
  given: z.output<typeof ExplainCounters> | undefined,
  finding: Finding,
  snapshot: PolicySnapshot,
): Counters {
  const targets: Record<string, Counters['targets'][string]> = {};
  const kinds: Record<string, Counters['kinds'][string]> = {};
  for (const candidate of candidatesFor(finding, snapshot)) {
    const key = counterKey(candidate.kind, candidate.target);
    targets[key] = given?.targets[key] ?? ZERO_TARGET_COUNTERS;
    kinds[candidate.kind] = given?.kinds[candidate.kind] ?? ZERO_KIND_COUNTERS;
  }
  return { targets, kinds };
}

/** `vigil policy schema`: the JSON Schema of the policy file (committed as policy.schema.json). */
export function runPolicySchema(io: CommandIo): number {
  io.stdout.write(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
  return EXIT_OK;
}

/** Adds `policy check | explain | schema` to the CLI. */
export function registerPolicyCommand(program: Command): void {
  const io: CommandIo = { stdout: process.stdout, stderr: process.stderr };
  const policy = program.command('policy').description('Check, explain and describe the policy file');
  policy
    .command('check')
    .description('Validate a policy file exactly as the daemon would (exit 0 valid, 2 invalid)')
    .argument('<file>', 'policy file')
    .option('-c, --config <file>', 'config file whose detectors define the known metrics')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ vigil policy check examples/policy.nba-props.yaml\n  $ vigil policy check examples/policy.nba-props.yaml -c examples/nba-props.yaml',
    )
    .action(
      contractAction((file: string, options: { config?: string; json?: boolean }) =>
        runPolicyCheck(file, options, io),
      ),
    );
  policy
    .command('explain')
    .description('Print the decisions for a finding and the gate trail behind each')
    .requiredOption(
      '--finding <json>',
      'finding as JSON or @file.json, e.g. {"metric":"m","labels":{"service":"a"}}',
    )
    .option('--policy <file>', 'policy file', process.env.VIGIL_POLICY ?? 'policy.yaml')
    .option('--counters <json>', 'counters as JSON or @file.json (default: nothing ran)')
    .option('--at <time>', 'evaluate at this RFC 3339 time instead of now')
    .option('--approved', 'evaluate as if a human approved the remediation')
    .option('--json', 'print the finding and its decisions (with gate trails) as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  $ vigil policy explain --policy examples/policy.nba-props.yaml --finding \'{"metric":"grading_completeness","labels":{"model":"catboost_v9"}}\'',
    )
    .action(contractAction((options: ExplainOptions) => runPolicyExplain(options, io)));
  policy
    .command('schema')
    .description('Print the JSON Schema of the policy file (for editors)')
    .addHelpText('after', '\nExample:\n  $ vigil policy schema > policy.schema.json')
    .action(contractAction(() => runPolicySchema(io)));
}
