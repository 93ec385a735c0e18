import { Queue } from 'bullmq';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { loadConfig } from '../config.js';
import { type Clock, systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { scrubSecrets } from '../core/logger.js';
import { REMEDIATION_QUEUE } from '../pipeline/remediation-queue.js';
import { readPolicyFile } from '../policies/load.js';
import type { PolicySnapshot } from '../policies/types.js';
import { formatOverview } from '../status/format.js';
import { StatusReader } from '../status/read-model.js';
import { redisKeys } from '../store/keys.js';
import { contractAction, exitCodeFor, withConfig, withExamples, withJson } from './contract.js';
import { type CommandIo, processIo } from './io.js';

/**
 * `vigil status [--json]`: the status read model as a terminal table, read straight from Redis
 * (no daemon needed, any replica's view is the fleet's). Exit 0 healthy; 1 when a breaker is
 * open, a hold or escalation is active, a collector is failing or stale, or Redis cannot be read;
 * 2 for bad input (config).
 */
export interface StatusOptions {
  readonly config: string;
  readonly json?: boolean | undefined;
}

export async function runStatus(
  options: StatusOptions,
  io: CommandIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
  clock: Clock = systemClock,
): Promise<number> {
  let redis: Redis | undefined;
  let queue: Queue | undefined;
  try {
    const config = await loadConfig(options.config, env);
    redis = new Redis(config.redis.url, {
      maxRetriesPerRequest: 1,
      connectTimeout: config.redis.connect_timeout,
      lazyConnect: true,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
    } catch (error) {
      io.stderr.write(
        `error: cannot read status: no Redis at ${scrubSecrets(config.redis.url)} (${errorMessage(error)})\n`,
      );
      return 1;
    }
    const policy = config.policy_file ? await policyOf(config.policy_file) : undefined;
    const connection = redis.duplicate({ maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
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
        const entry = config.collectors.find((collector) => collector.id === id);
        return entry ? 3 * entry.interval : undefined;
      },
    });
    const overview = await reader.overview();
    io.stdout.write(options.json ? `${JSON.stringify(overview, null, 2)}\n` : formatOverview(overview));
    return overview.health.ok ? 0 : 1;
  } catch (error) {
    return exitCodeFor(error, io);
  } finally {
    await queue?.close().catch(() => undefined);
    redis?.disconnect();
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
      withConfig(status, true, 'config file (for Redis and the policy)'),
      'the whole read model (what GET /api/status answers)',
    ),
    'vigil status -c examples/nba-props.yaml',
    'vigil status -c examples/nba-props.yaml --json | jq .health',
  ).action(contractAction((options: StatusOptions) => runStatus(options)));
}
