import { createReadStream, createWriteStream } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { loadBindingForSeries } from '../backtest/config.js';
import { csvField, readSeriesCsv } from '../backtest/csv.js';
import { BacktestRunner, BacktestSummary } from '../backtest/runner.js';
import { ConfigError, errorMessage, isVigilError } from '../core/errors.js';
import { compileBinding, type DetectorBinding, detectorBinding } from '../detectors/binding.js';
import { DEFAULT_DETECTOR, detectorRegistry } from '../detectors/index.js';
import { contractAction } from './contract.js';

export interface BacktestOptions {
  /** Detector kind; required unless `config` is given (then it narrows the binding to that kind). */
  readonly detector?: string;
  /** Detector options as JSON text. */
  readonly options?: string;
  readonly config?: string;
  /** Series name: selects the config binding, and names the metric in reasons. */
  readonly series?: string;
  readonly input: string;
  readonly output?: string;
  readonly summary?: boolean;
  /** Print the summary as one JSON object on stdout (needs an output file for the scores). */
  readonly json?: boolean;
  /** Repeating or backward timestamps are an error instead of being counted. */
  readonly strict?: boolean;
  /** Bad rows tolerated (skipped and reported); more stop the backtest. Default 0. */
  readonly maxBadRows?: number;
}

export interface BacktestIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

const HEADER = 'timestamp,value,anomaly_score,severity,reason\n';
const FLUSH_BYTES = 1 << 16;

/**
 * Runs one backtest: streams INPUT through the detector(s), writes one output row per input row
 * (row i judged on rows <= i only), optionally prints a summary. Returns the exit code:
 * 0 ok, 2 bad input (CSV, options, config), 1 anything else.
 */
export async function runBacktest(options: BacktestOptions, io: BacktestIo): Promise<number> {
  try {
    const binding = await resolveBinding(options);
    if (options.json && !options.output)
      throw new ConfigError('--json prints the summary on stdout: write the scores to a file with -o FILE');
    const maxBadRows = options.maxBadRows ?? 0;
    if (!Number.isInteger(maxBadRows) || maxBadRows < 0)
      throw new ConfigError(`--max-bad-rows must be a whole number >= 0, got ${options.maxBadRows}`);
    const runner = new BacktestRunner(compileBinding(binding));
    const summary = new BacktestSummary();
    const out = options.output ? createWriteStream(options.output) : io.stdout;
    await writeChunk(out, HEADER);
    const read = await readSeriesCsv(
      createReadStream(options.input),
      async (batch) => {
        let chunk = '';
        for (let i = 0; i < batch.length; i++) {
          const step = runner.step(batch.timestamps[i] as number, batch.values[i] as number);
          const text = batch.timestampTexts[i] as string;
          // Only verdicts worth explaining carry a reason: rendering one per ok row would cost more
          // than the detection itself on a million-row replay (an ok row's reason says nothing new).
          const severity = step.verdict.severity;
          const reason = severity === 'ok' ? '' : csvField(step.verdict.reason);
          chunk += `${text},${batch.valueTexts[i]},${step.score},${severity},${reason}\n`;
          summary.add(text, step);
          if (chunk.length >= FLUSH_BYTES) {
            await writeChunk(out, chunk);
            chunk = '';
          }
        }
        if (chunk !== '') await writeChunk(out, chunk);
      },
      { strict: options.strict === true, maxBadRows },
    );
    summary.input(runner, read.badRows);
    if (options.output) {
      out.end();
      await finished(out);
    }
    if (options.summary) io.stderr.write(summary.render());
    if (options.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } catch (error) {
    return reportFailure(error, io.stderr);
  }
}

function reportFailure(error: unknown, stderr: Writable): number {
  if (isVigilError(error) && error.kind === 'config') {
    const problems = error instanceof ConfigError ? error.problems : [];
    stderr.write(`vigil backtest: ${error.message}\n${problems.map((problem) => `  ${problem}\n`).join('')}`);
    return 2;
  }
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    stderr.write(`vigil backtest: ${errorMessage(error)}\n`);
    return 2;
  }
  stderr.write(`vigil backtest: ${errorMessage(error)}\n`);
  return 1;
}

async function writeChunk(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
}

async function resolveBinding(options: BacktestOptions): Promise<DetectorBinding> {
  if (options.config) {
    if (!options.series) throw new ConfigError('--config needs --series NAME to pick a binding');
    if (options.options) throw new ConfigError('use either --options or --config, not both');
    const binding = await loadBindingForSeries(options.config, options.series);
    if (!options.detector) return binding;
    const use = binding.use.filter((entry) => entry.kind === options.detector);
    if (use.length === 0)
      throw new ConfigError(`the binding for ${options.series} has no ${options.detector} detector`);
    return { ...binding, use };
  }
  const kind = options.detector ?? DEFAULT_DETECTOR;
  detectorRegistry.get(kind);
  const metric = options.series ?? basename(options.input, extname(options.input));
  const parsed = detectorBinding.safeParse({
    metric,
    use: [{ kind, options: parseJsonOptions(options.options) }],
  });
  if (!parsed.success)
    throw new ConfigError(
      'invalid backtest options',
      parsed.error.issues.map((issue) => issue.message),
    );
  return parsed.data;
}

function parseJsonOptions(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`--options is not valid JSON: ${errorMessage(error)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('--options must be a JSON object, e.g. {"window": 28}');
  }
  return value as Record<string, unknown>;
}

/** Registers `vigil backtest`; the action sets process.exitCode from runBacktest. */
export function registerBacktestCommand(program: Command): void {
  program
    .command('backtest')
    .description('replay a timestamp,value CSV through a detector and write per-row anomaly scores')
    .argument('<input>', 'CSV with header timestamp,value (ISO-8601 or YYYY-MM-DD HH:MM:SS, UTC)')
    .argument('[output]', 'output CSV (same as -o)')
    .option(
      '--detector <kind>',
      `detector kind (default ${DEFAULT_DETECTOR}): ${detectorRegistry.kinds.join(', ')}`,
    )
    .option('--options <json>', 'detector options as JSON, e.g. {"window":28,"direction":"down"}')
    .option('-c, --config <file>', 'config file whose detectors: binding to use (with --series)')
    .option('--series <name>', 'series name, metric or metric{label="value"}; names the metric in reasons')
    .option(
      '-o, --output <file>',
      'write timestamp,value,anomaly_score,severity,reason here (default stdout)',
    )
    .option('--summary', 'print counts per severity and the top findings to stderr')
    .option('--json', 'print the summary as JSON on stdout (with -o FILE)')
    .option(
      '--strict',
      'timestamps that repeat or go back are an error (default: counted, judged in input order)',
    )
    .option(
      '--max-bad-rows <n>',
      'skip and report up to N unreadable rows (default 0: any bad row stops)',
      (text) => Number(text),
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ vigil backtest --detector robust-zscore history.csv -o scored.csv --summary\n' +
        '  $ vigil backtest --detector zscore --options \'{"window":"28d","direction":"down"}\' vegas_line_coverage.csv\n' +
        '  $ vigil backtest -c vigil.yaml --series \'grading_completeness{model="catboost_v9"}\' grading.csv\n',
    )
    .action(
      contractAction((input: string, output: string | undefined, flags: Omit<BacktestOptions, 'input'>) =>
        runBacktest(
          { ...flags, input, ...((flags.output ?? output) ? { output: flags.output ?? output } : {}) },
          { stdout: process.stdout, stderr: process.stderr },
        ),
      ),
    );
}
