import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { loadConfig } from '../config.js';
import { type Clock, systemClock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { type ApprovalRequest, ApprovalStore } from '../policies/approvals.js';
import { redisKeys } from '../store/keys.js';
import { contractAction, withConfig, withExamples, withJson } from './contract.js';
import { openControls } from './control-context.js';
import { type CommandIo, exitCodeFor, processIo } from './io.js';

/**
 * `vigil approve FINDING_ID`: grants the remediation a finding waits for (`needs-approval`); the
 * daemon re-runs the deciding tick at once, and the worker re-checks the grant when the job runs.
 * `--list` shows what is waiting. Exit 0 done, 1 nothing to approve under that id, 2 bad input.
 */
export interface ApproveOptions {
  readonly config: string;
  readonly as?: string | undefined;
  readonly list?: boolean | undefined;
  readonly json?: boolean | undefined;
}

export async function runApprove(
  findingId: string | undefined,
  options: ApproveOptions,
  io: CommandIo = processIo,
  clock: Clock = systemClock,
): Promise<number> {
  let redis: Redis | undefined;
  try {
    const config = await loadConfig(options.config);
    redis = new Redis(config.redis.url, {
      maxRetriesPerRequest: 1,
      connectTimeout: config.redis.connect_timeout,
    });
    redis.on('error', () => undefined);
    const store = new ApprovalStore(redis, redisKeys(config.redis.key_prefix), clock);
    if (options.list || !findingId) {
      const pending = await store.pending();
      if (options.json) io.stdout.write(`${JSON.stringify(pending)}\n`);
      else
        io.stdout.write(
          pending.length === 0 ? 'nothing waits for approval\n' : `${pending.map(describe).join('\n')}\n`,
        );
      return 0;
    }
    const approver = (options.as ?? process.env.USER ?? '').trim();
    if (approver === '')
      throw new ConfigError('--as: say who approves (no USER in the environment)', ['--as NAME']);
    const grant = await store.grant(findingId, approver);
    if (!grant) {
      const pending = await store.pending();
      io.stderr.write(`nothing waits for approval under ${findingId}\n`);
      if (pending.length > 0) io.stderr.write(`waiting:\n${pending.map(describe).join('\n')}\n`);
      return 1;
    }
    // The grant is audited as the human and announced with their name (Slack, console).
    const controls = await openControls(options.config, io, clock);
    try {
      await controls.record(
        approver,
        'approval-granted',
        `approved ${findingId}: ${subject(grant.request)}`,
        grant.request,
      );
    } finally {
      await controls.close();
    }
    io.stdout.write(
      `approved ${findingId} as ${approver}: ${subject(grant.request)}; a running vigil acts on it now (grant valid 24 h)\n`,
    );
    return 0;
  } catch (error) {
    return exitCodeFor(error, io);
  } finally {
    redis?.disconnect();
  }
}

function subject(request: ApprovalRequest): string {
  const what =
    request.remediation && request.target ? `${request.remediation}/${request.target}` : 'its remediation';
  return `${what} for ${request.series} [rule ${request.ruleId ?? 'none'}]`;
}

function describe(request: ApprovalRequest): string {
  return `${request.findingId}  ${new Date(request.requestedAt).toISOString()}  ${subject(request)}: ${request.reason}`;
}

export function registerApproveCommand(program: Command): void {
  const approve = program
    .command('approve')
    .description('approve the remediation a finding waits for (needs-approval), or list what waits')
    .argument('[finding-id]', 'the finding id from the notification or `vigil audit tail`')
    .option('--as <name>', 'who approves (default: $USER); recorded in the audit log')
    .option('--list', 'list the findings waiting for approval');
  withExamples(
    withJson(
      withConfig(approve, true, 'config file (for Redis)'),
      'with --list: the waiting requests as JSON',
    ),
    'vigil approve --list -c examples/nba-props.yaml',
    'vigil approve 3f2a9c1e -c examples/nba-props.yaml --as alice',
  ).action(
    contractAction((findingId: string | undefined, options: ApproveOptions) =>
      runApprove(findingId, options),
    ),
  );
}
