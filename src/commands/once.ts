import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { type Config, loadConfig } from '../config.js';
import { type Clock, clockFromEnvironment } from '../core/clock.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createMetricsRegistry } from '../core/metrics.js';
import { assembleCollection } from '../pipeline/assemble.js';
import { runTick, type SeriesReport, type TickReport } from '../pipeline/tick.js';
import { createRedis } from '../store/redis.js';
import { contractAction, withConfig, withExamples } from './contract.js';
import { type CommandIo, exitCodeFor, processIo } from './io.js';

/**
 * `vigil once`: every collector and detector once, through the daemon's code path, then a
 * table of series, values, verdicts and reasons. Samples are stored (history dedups them);
 * hysteresis state and anomaly flags are not touched, so running it never changes what the
 * daemon will raise. Exit 0 = nothing anomalous, 1 = anomalies, 2 = errors.
 */
export async function runOnce(
  configFile: string,
  io: CommandIo,
  env = process.env,
  json = false,
): Promise<number> {
  let config: Config;
  let clock: Clock;
  try {
    config = await loadConfig(configFile, env);
    clock = clockFromEnvironment(env);
  } catch (error) {
    return exitCodeFor(error, io);
  }
  const logger = pino(
    { level: env.VIGIL_LOG_LEVEL ?? 'fatal', base: { service: 'vigil' } },
    pino.destination(2),
  );
  const redis = createRedis(
    { url: config.redis.url, connectTimeoutMs: config.redis.connect_timeout, maxRetryDelayMs: 1_000 },
    logger,
    { retryStrategy: () => null },
  );
  try {
    await redis.connect();
  } catch (error) {
    io.stderr.write(`error: cannot reach Redis: ${errorMessage(error)}\n`);
    redis.disconnect();
    return 2;
  }
  try {
    const reports = await collectOnce(config, { redis, logger, clock });
    io.stdout.write(
      json ? `${JSON.stringify({ at: clock.now(), reports })}\n` : renderReports(reports, clock),
    );
    return exitCode(reports);
  } catch (error) {
    if (error instanceof ConfigError) return exitCodeFor(error, io);
    io.stderr.write(`error: ${errorMessage(error)}\n`);
    return 2;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/**
 * Every collector and detector once, through the daemon's code path (samples stored, no
 * hysteresis or flags touched). Shared by `vigil once` and `vigil doctor`.
 */
export async function collectOnce(
  config: Config,
  deps: { readonly redis: Redis; readonly logger: Logger; readonly clock: Clock },
): Promise<TickReport[]> {
  const { logger, clock } = deps;
  const metrics = createMetricsRegistry({ processMetrics: false });
  const collection = assembleCollection(config, { logger, clock, metrics, redis: deps.redis, lease: false });
  try {
    const reports: TickReport[] = [];
    for (const collector of collection.collectors) {
      reports.push(
        await runTick(collector, {
          store: collection.store,
          bindings: collection.bindings,
          clock,
          logger,
          metrics,
          readPoints: config.history.read_points,
          persist: false,
          seenSeries: new Set(),
          onFindings: async () => undefined,
        }),
      );
    }
    return reports;
  } finally {
    await collection.close();
  }
}

function exitCode(reports: readonly TickReport[]): number {
  if (reports.some((report) => report.outcome !== 'success')) return 2;
  const anomalous = reports.some((report) =>
    report.series.some(
      (row) =>
        row.verdict?.anomalous === true || (row.status !== undefined && row.status.status !== 'pinned'),
    ),
  );
  return anomalous ? 1 : 0;
}

/** Renders the report as an aligned text table, one line per series, then problems and failures. */
export function renderReports(reports: readonly TickReport[], clock: Clock): string {
  const rows: string[][] = [['SERIES', 'AT', 'VALUE', 'VERDICT', 'SCORE', 'REASON']];
  for (const report of reports) {
    for (const row of [...report.series].sort((a, b) => a.series.localeCompare(b.series)))
      rows.push(renderRow(row));
  }
  // The reason column is last and left unpadded: it is long and free text.
  const widths = [0, 1, 2, 3, 4].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const lines = rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const notes: string[] = [];
  for (const report of reports) {
    if (report.outcome !== 'success')
      notes.push(`collector ${report.collector}: ${report.outcome}: ${report.error ?? ''}`);
    for (const problem of report.problems)
      notes.push(`collector ${report.collector}: ${problem.kind}: ${problem.message}`);
  }
  const header = `vigil once at ${new Date(clock.now()).toISOString()}: ${reports.length} collectors, ${rows.length - 1} series`;
  return `${[header, '', ...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')}\n`;
}

function renderRow(row: SeriesReport): string[] {
  const at =
    row.timestamp === undefined
      ? '-'
      : new Date(row.timestamp).toISOString().replace('T00:00:00.000Z', '').replace('.000Z', 'Z');
  const value = row.value === undefined ? '-' : formatValue(row.value);
  if (row.status) return [row.series, at, value, row.status.status, '-', row.status.reason];
  const verdict = row.verdict;
  if (!verdict) return [row.series, at, value, 'unwatched', '-', 'no detector binding for this series'];
  return [row.series, at, value, verdict.severity, verdict.score.toFixed(3), verdict.reason];
}

function formatValue(value: number): string {
  return Number.isInteger(value)
    ? String(value)
    : value.toFixed(Math.abs(value) >= 100 ? 1 : 3).replace(/0+$/, '');
}

export function registerOnceCommand(program: Command): void {
  const once = program
    .command('once')
    .description(
      'run every collector and detector once and print series, values, verdicts and reasons (exit 0 ok, 1 anomalies, 2 errors)',
    )
    .option('--json', 'print the reports as one JSON document');
  withExamples(
    withConfig(once, true),
    'vigil once -c examples/nba-props.yaml',
    '# against the sandbox: run `vigil sandbox` in another terminal, paste its export lines, then',
    'vigil once -c examples/nba-props.yaml --json',
  ).action(
    contractAction((options: { config: string; json?: boolean }) =>
      runOnce(options.config, processIo, process.env, options.json === true),
    ),
  );
}
