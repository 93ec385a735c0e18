import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { verifyAuditFile } from '../audit/verify.js';
import { type Config, loadConfig } from '../config.js';
import { systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { createLogger, scrubSecrets } from '../core/logger.js';
import type { AuditEntry } from '../core/types.js';
import { Daemon } from '../daemon.js';
import type { Sandbox } from '../sandbox/index.js';
import { deleteKeysWithPrefix } from '../store/redis.js';
import { redisAnswers, startLocalRedis } from '../store/redis-server.js';
import { contractAction, integerFlag, UsageError } from './contract.js';
import { BadCommitStory, SeedStory, type Story } from './demo-story.js';
import { renderTable, summarize } from './demo-summary.js';
import type { CommandIo } from './io.js';

/**
 * `vigil demo`: the seed incident end to end on one machine. The embedded sandbox plays the
 * platform (BigQuery, Cloud Run, git, health endpoints); the real daemon, with the seed config
 * and policy, detects the coverage drop, the drifted service, the grading gaps and the wedged
 * worker, redeploys, backfills and restarts through its queue, announces each step (console
 * notifier), verifies the changes, and — after the sandbox lives through two more days — sees the
 * coverage recover. Exit 0 when the whole story happened within `--timeout`, 1 otherwise.
 */
export interface DemoOptions {
  readonly redis?: string | undefined;
  readonly timeoutMs: number;
  readonly dataDir: string;
  /** Notifiers added to the seed config's (tests capture Slack cards of a whole run this way). */
  readonly notifiers?: Config['notifiers'] | undefined;
  /** After the story, keep the sandbox and the daemon running until `stop` fires (Ctrl-C). */
  readonly keep?: AbortSignal | undefined;
  /** `seed-incident` (default) or `bad-commit` (main's HEAD is broken: rollback and memory). */
  readonly scenario?: DemoScenario | undefined;
}

const CONFIG = fileURLToPath(new URL('../../examples/nba-props.yaml', import.meta.url));
export const DEMO_SCENARIOS = ['seed-incident', 'bad-commit'] as const;
export type DemoScenario = (typeof DEMO_SCENARIOS)[number];

/** Collector intervals in the demo: the story unfolds in seconds, not hours. */
const DEMO_INTERVAL_MS = 3_000;
const PROBE_INTERVAL_MS = 1_000;
/** The seed incident's first affected day (grading outages from day 38, seed-incident.yaml): earlier episodes are clean days. */
const INCIDENT_START = Date.parse('2026-01-26T00:00:00Z');
/** The service a human pinned (the seed's jane.doe): vigil must leave it alone. */
const PINNED = 'prediction-coordinator';

/**
 * Prints the summary table from the audit log, the false alarms on clean days, the pinned
 * service and the audit chain; true when the log tells the story (no false alarm, the pinned
 * service untouched, the chain intact).
 */
async function tellSummary(
  auditFile: string,
  problem: string | undefined,
  say: (line: string) => void,
): Promise<boolean> {
  const entries = (await readFile(auditFile, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditEntry);
  const summary = summarize(entries, INCIDENT_START);
  say('summary (from the audit log):');
  for (const line of renderTable(summary.rows)) say(`  ${line}`);
  for (const line of summary.afterRollback) say(`after the rollback, ${line}`);
  say(
    `false alarms on clean days (actions on episodes before ${new Date(INCIDENT_START).toISOString().slice(0, 10)}): ${summary.falseAlarms}`,
  );
  const pinned = summary.decisionsByTarget.get(PINNED) ?? 0;
  say(
    `${PINNED} (traffic pinned by a human): ${pinned === 0 ? 'untouched, reported as pinned, not drift' : `${pinned} decision(s)`}`,
  );
  say(
    problem
      ? `audit chain BROKEN: ${problem}`
      : `audit chain intact: ${entries.length} entries in ${auditFile}`,
  );
  return problem === undefined && summary.falseAlarms === 0 && pinned === 0;
}

export async function runDemo(options: DemoOptions, io: CommandIo): Promise<number> {
  const say = (line: string) => io.stdout.write(`demo: ${line}\n`);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const redisUrl = await redisForDemo(options.redis, say, cleanups);
    say('starting the sandbox (BigQuery, Cloud Run, git and health endpoints of the seed platform)');
    // Loaded on demand, as in `vigil sandbox`: DuckDB's native module must not slow every command.
    const { startSandbox } = await import('../sandbox/index.js');
    const sandbox = await startSandbox({ port: 0, seed: 77, operationDelayMs: 200 });
    cleanups.push(() => sandbox.close());
    const prefix = `vigil-demo-${randomUUID().slice(0, 8)}`;
    cleanups.push(() => deleteKeys(redisUrl, prefix));
    await rm(options.dataDir, { recursive: true, force: true });
    const config = demoConfig(
      await loadConfig(CONFIG, {
        ...process.env,
        ...sandbox.env,
        VIGIL_REDIS_URL: redisUrl,
        VIGIL_KEY_PREFIX: prefix,
        VIGIL_DATA_DIR: options.dataDir,
        VIGIL_HTTP_PORT: '0',
        VIGIL_REPLICA_ID: 'demo',
        VIGIL_VERIFY_AFTER: '3s',
      }),
      options.notifiers,
    );
    say(`the platform on ${sandbox.date()}: ${describePlatform(sandbox)}`);
    let story: Story = new SeedStory(sandbox, say);
    if (options.scenario === 'bad-commit') {
      const bad = sandbox.breakMain();
      say(`bad-commit scenario: main's HEAD ${bad.slice(0, 8)} fails its health checks once deployed`);
      story = new BadCommitStory(join(resolve(options.dataDir), 'audit', 'audit-demo.jsonl'));
    }
    // The sandbox's clock stands still on its simulated day; vigil's must move (probes a second
    // apart are different points), so it runs from the sandbox's time at wall-clock speed.
    const startedWall = systemClock.now();
    const clock = { now: () => sandbox.clock.now() + (systemClock.now() - startedWall) };
    // The daemon's structured logs go to a file: the terminal shows the notifications.
    await mkdir(options.dataDir, { recursive: true });
    const logFile = join(options.dataDir, 'vigil.log');
    const logStream = createWriteStream(logFile);
    cleanups.push(() => new Promise<void>((done) => logStream.end(done)));
    const daemon = new Daemon(config, {
      logger: createLogger({ level: 'info', destination: logStream }),
      clock,
      observe: (event) => story.observe(event),
      out: io.stdout,
    });
    cleanups.push(() => daemon.stop());
    await daemon.start();
    say(
      `vigil is running (${config.collectors.length} collectors, policy ${config.policy_file}, logs in ${logFile}); its notifications follow`,
    );
    say(
      `status page ${daemon.url}/ (from another terminal: vigil status --url ${daemon.url}); Redis keys under ${prefix}:`,
    );
    const done = await story.run(options.timeoutMs);
    if (options.keep) await keepRunning(daemon, options.keep, say);
    await daemon.stop();
    const auditFile = join(resolve(options.dataDir), 'audit', 'audit-demo.jsonl');
    const audit = await verifyAuditFile(auditFile);
    say(`the platform now: ${describePlatform(sandbox)}`);
    const told = await tellSummary(auditFile, audit.problem, say);
    for (const line of story.missing()) say(`NOT SEEN: ${line}`);
    const happened = done && told;
    say(happened ? 'the whole story happened' : 'the story did not complete');
    return happened ? 0 : 1;
  } catch (error) {
    io.stderr.write(`demo: ${errorMessage(error)}\n`);
    return 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

/** `--keep`: the page stays up on the story's platform until the signal (Ctrl-C) fires. */
async function keepRunning(daemon: Daemon, stop: AbortSignal, say: (line: string) => void): Promise<void> {
  say(`the status page: ${daemon.url}/ (JSON under ${daemon.url}/api/status)`);
  say('the sandbox and vigil keep running; press Ctrl-C to stop them and clean up');
  if (stop.aborted) return;
  await new Promise<void>((done) => stop.addEventListener('abort', () => done(), { once: true }));
  say('stopping');
}

/** The seed config at demo speed: every collector every few seconds, probes every second. */
function demoConfig(config: Config, notifiers: Config['notifiers'] = []): Config {
  return {
    ...config,
    notifiers: [...config.notifiers, ...notifiers],
    collectors: config.collectors.map((collector) => ({
      ...collector,
      interval: collector.kind === 'http-probe' ? PROBE_INTERVAL_MS : DEMO_INTERVAL_MS,
      cron: undefined,
    })),
  };
}

function describePlatform(sandbox: Sandbox): string {
  const state = sandbox.state();
  const phase4 = state.services.find((service) => service.name === 'nba-phase4-precompute-processors');
  const worker = state.services.find((service) => service.name === 'prediction-worker');
  const backfills = state.jobs.find((job) => job.name === 'grading-backfill')?.executions.length ?? 0;
  return `phase 4 ${phase4?.commits_behind_main ?? '?'} commits behind main, prediction-worker health ${worker?.health ?? '?'}, ${backfills} grading backfill run(s)`;
}

/** The Redis to use: the given or usual one if it answers, else a throwaway redis-server if installed. */
async function redisForDemo(
  given: string | undefined,
  say: (line: string) => void,
  cleanups: (() => Promise<void>)[],
): Promise<string> {
  const url = given ?? process.env.VIGIL_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) {
    say(`using Redis at ${scrubSecrets(url)} (keys under a demo prefix, deleted afterwards)`);
    return url;
  }
  if (given) throw new Error(`no Redis answers at ${scrubSecrets(given)}`);
  const local = await startLocalRedis(['--maxmemory-policy', 'noeviction']).catch((error: unknown) => {
    throw new Error(`no Redis answers at ${scrubSecrets(url)}, and ${errorMessage(error)}`);
  });
  cleanups.push(() => local.stop());
  say(`no Redis at ${scrubSecrets(url)}: started a throwaway redis-server on port ${local.port}`);
  return local.url;
}

/** Deletes the demo's keys (history, state, queues, counters) so repeated demos leave nothing. */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await deleteKeysWithPrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'the seed incident end to end: the embedded sandbox plays the platform, vigil detects, remediates, verifies and audits',
    )
    .option(
      '--redis <url>',
      'Redis to use (default: VIGIL_REDIS_URL, else 127.0.0.1:6379, else a throwaway redis-server)',
    )
    .option('--timeout <seconds>', 'give up after this long', '180')
    .option('--scenario <name>', `the story: ${DEMO_SCENARIOS.join(' | ')}`, 'seed-incident')
    .option('--data-dir <dir>', 'where the audit log and git mirror go', '.vigil/demo')
    .option(
      '--keep',
      'after the story, keep the sandbox and vigil running (the status page URL is printed; Ctrl-C stops)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ vigil demo\n  $ vigil demo --scenario bad-commit             # a broken main: rollback and do-not-deploy memory\n  $ vigil demo --keep                           # then open the printed status page\n  $ vigil demo --redis redis://127.0.0.1:6380 --data-dir /tmp/vigil-demo',
    )
    .action(
      contractAction(
        (options: { redis?: string; timeout: string; dataDir: string; keep?: boolean; scenario: string }) =>
          runDemo(
            {
              scenario: demoScenario(options.scenario),
              redis: options.redis,
              timeoutMs: integerFlag('--timeout', options.timeout, 1, 86_400) * 1_000,
              dataDir: options.dataDir,
              keep: options.keep ? stopSignal() : undefined,
            },
            { stdout: process.stdout, stderr: process.stderr },
          ),
      ),
    );
}

function demoScenario(text: string): DemoScenario {
  const found = DEMO_SCENARIOS.find((name) => name === text);
  if (!found)
    throw new UsageError(
      `--scenario: expected one of ${DEMO_SCENARIOS.join(', ')}, got ${JSON.stringify(text)}`,
    );
  return found;
}

/** Fires on the first Ctrl-C or SIGTERM; the demo then cleans up and exits. */
function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}
