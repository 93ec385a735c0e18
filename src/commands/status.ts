import { Queue } from 'bullmq';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { loadConfig } from '../config.js';
import { type Clock, clockFromEnvironment } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { scrubSecrets } from '../core/logger.js';
import { defaultId } from '../pipeline/assemble.js';
import { REMEDIATION_QUEUE } from '../pipeline/remediation-queue.js';
import { readPolicyFile } from '../policies/load.js';
import type { PolicySnapshot } from '../policies/types.js';
import { formatOverview } from '../status/format.js';
import { StatusReader } from '../status/read-model.js';
import type { StatusOverview } from '../status/types.js';
import { redisKeys } from '../store/keys.js';
import { contractAction, exitCodeFor, UsageError, withConfig, withExamples, withJson } from './contract.js';
import { type CommandIo, processIo } from './io.js';

/**
 * `vigil status [--json]`: the status read model as a terminal table, read straight from Redis
 * (no daemon needed, any replica's view is the fleet's). Exit 0 healthy; 1 when a breaker is
 * open, a hold or escalation is active, a collector is failing or stale, or Redis cannot be read;
 * 2 for bad input (config). `--url` reads a running replica's /api/status instead (its clock and
 * policy: what `vigil demo --keep` prints).
 */
export interface StatusOptions {
  readonly config?: string | undefined;
  /** A running replica's HTTP base URL: read its /api/status instead of Redis. */
  readonly url?: string | undefined;
  readonly json?: boolean | undefined;
}

/** How long `--url` waits for the replica's answer. */
const URL_TIMEOUT_MS = 10_000;

export async function runStatus(
  options: StatusOptions,
  io: CommandIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
  clock?: Clock,
): Promise<number> {
  try {
    if (!options.config === !options.url)
      throw new UsageError(
        'say where to read the status from: -c/--config FILE (Redis) or --url URL (a replica)',
      );
    const overview = options.url
      ? await fromReplica(options.url)
      : await fromRedis(options.config as string, env, clock ?? clockFromEnvironment(env));
    if (typeof overview === 'string') {
      io.stderr.write(`error: cannot read status: ${overview}\n`);
      return 1;
    }
    io.stdout.write(options.json ? `${JSON.stringify(overview, null, 2)}\n` : formatOverview(overview));
    return overview.health.ok ? 0 : 1;
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

/** The overview from Redis, or why Redis could not be read. */
async function fromRedis(
  file: string,
  env: NodeJS.ProcessEnv,
  clock: Clock,
): Promise<StatusOverview | string> {
  const config = await loadConfig(file, env);
  const redis = new Redis(config.redis.url, {
    maxRetriesPerRequest: 1,
    connectTimeout: config.redis.connect_timeout,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  let queue: Queue | undefined;
  const connection = redis.duplicate({ maxRetriesPerRequest: null, lazyConnect: true });
  connection.on('error', () => undefined);
  try {
    try {
      await redis.connect();
    } catch (error) {
      return `no Redis at ${scrubSecrets(config.redis.url)} (${errorMessage(error)})`;
    }
    const policy = config.policy_file ? await policyOf(config.policy_file) : undefined;
    const keys = redisKeys(config.redis.key_prefix);
    queue = new Queue(REMEDIATION_QUEUE, { connection, prefix: keys.bullmq });
    const current = queue;
    const reader = new StatusReader({
      redis,
      keys,
      clock,
      policy: () => policy,
      queue: () => current,
      staleAfterMs: (id) => {
        const entry = config.collectors.find((collector) => (collector.id ?? defaultId(collector)) === id);
        return entry ? 3 * entry.interval : undefined;
      },
    });
    return await reader.overview();
  } finally {
    // A Queue given a connection leaves it open on close(): end both, or the process lingers.
    await queue?.close().catch(() => undefined);
    connection.disconnect();
    redis.disconnect();
  }
}

/** The overview a running replica serves (its clock, its policy), or why it could not be read. */
async function fromReplica(base: string): Promise<StatusOverview | string> {
  let url: URL;
  try {
    url = new URL('/api/status', base);
  } catch {
    throw new UsageError(
      `--url: expected an http(s) URL such as http://127.0.0.1:9464, got ${JSON.stringify(base)}`,
    );
  }
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(URL_TIMEOUT_MS) });
    if (!response.ok) return `${url.origin} answered HTTP ${response.status}`;
    return (await response.json()) as StatusOverview;
  } catch (error) {
    return `${url.origin} did not answer (${errorMessage(error)})`;
  }
}

/** The policy file as the daemon would load it; a broken one is shown as no policy (the daemon keeps its last good one). */
async function policyOf(file: string): Promise<PolicySnapshot | undefined> {
  const result = await readPolicyFile(file);
  return result.ok ? result.snapshot : undefined;
}

export function registerStatusCommand(program: Command): void {
  const status = program
    .command('status')
    .description(
      'what vigil sees and did: findings, remediations, breakers, holds, approvals, budgets, collectors (exit 1: a breaker open, a hold or escalation, a collector failing)',
    );
  withExamples(
    withJson(
      withConfig(status, false, 'config file (for Redis and the policy)').option(
        '--url <url>',
        "a running replica's HTTP address: show what it serves at /api/status",
      ),
      'the whole read model (what GET /api/status answers)',
    ),
    'vigil status -c examples/nba-props.yaml',
    'vigil status -c examples/nba-props.yaml --json | jq .health',
    'vigil status --url http://127.0.0.1:9464',
  ).action(contractAction((options: StatusOptions) => runStatus(options)));
}
