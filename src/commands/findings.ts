import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { systemClock } from '../core/clock.js';
import { auditTrail } from '../status/audit-trail.js';
import { StatusReader } from '../status/read-model.js';
import { contractAction, EXIT, withConfig, withExamples, withJson } from './contract.js';
import { withControls } from './control-context.js';
import { type CommandIo, processIo } from './io.js';

/**
 * `vigil findings [--json]`: the open findings every replica recorded, each with its latest
 * decision (exit 0 none open, 1 some open). `vigil history TARGET [--json]`: what vigil decided
 * and did on one service or job, from every replica's audit log (exit 0, 1 nothing recorded).
 */
interface Options {
  readonly config: string;
  readonly json?: boolean;
}

export async function runFindings(options: Options, io: CommandIo = processIo): Promise<number> {
  return withControls(options.config, io, async (context) => {
    const reader = new StatusReader({ redis: context.redis, keys: context.keys, clock: systemClock });
    const { findings } = await reader.overview();
    if (options.json) io.stdout.write(`${JSON.stringify(findings)}\n`);
    else if (findings.length === 0) io.stdout.write('no open finding\n');
    for (const finding of options.json ? [] : findings) {
      const last = finding.decisions.at(-1);
      const decision = last ? `${last.action}: ${last.reason}` : 'no decision yet';
      io.stdout.write(
        `${finding.id}  ${finding.verdict.severity}  ${finding.series} = ${finding.value} since ${new Date(finding.since).toISOString()}\n    ${decision}\n`,
      );
    }
    return findings.length === 0 ? EXIT.ok : EXIT.found;
  });
}

export async function runHistory(
  target: string,
  options: Options,
  io: CommandIo = processIo,
): Promise<number> {
  const config = await loadConfig(options.config);
  const trail = await auditTrail(join(resolve(config.data_dir), 'audit'), undefined);
  const entries = trail.entries.filter((entry) => concerns(entry.plan, target));
  if (options.json) io.stdout.write(`${JSON.stringify(entries)}\n`);
  else if (entries.length === 0) io.stdout.write(`nothing recorded about ${target}\n`);
  for (const entry of options.json ? [] : entries) {
    const who = entry.actor.type === 'human' ? entry.actor.name : `vigil@${entry.actor.replica}`;
    const outcome = entry.outcome ? ` ${entry.outcome}` : '';
    io.stdout.write(
      `${new Date(entry.time).toISOString()}  ${who}  ${entry.event}${outcome}: ${entry.reason ?? ''}\n`,
    );
  }
  return entries.length === 0 ? EXIT.found : EXIT.ok;
}

/** Whether an audit entry's plan (a decision, a remediation plan, a hold, a memory) names the target. */
function concerns(plan: unknown, target: string): boolean {
  if (plan === null || typeof plan !== 'object') return false;
  const fields = plan as Record<string, unknown>;
  return fields.target === target || fields.service === target || fields.job === target;
}

export function registerFindingsCommands(program: Command): void {
  withExamples(
    withJson(
      withConfig(program.command('findings').description('open findings with their latest decision'), true),
    ),
    'vigil findings -c examples/nba-props.yaml',
    'vigil findings --json -c examples/nba-props.yaml',
  ).action(contractAction((options: Options) => runFindings(options)));
  withExamples(
    withJson(
      withConfig(
        program
          .command('history')
          .description('what vigil decided and did on one service or job (every replica audit log)')
          .argument('<target>', 'service or job name'),
        true,
      ),
    ),
    'vigil history grading-backfill -c examples/nba-props.yaml',
  ).action(contractAction((target: string, options: Options) => runHistory(target, options)));
}
