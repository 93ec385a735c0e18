import type { Command } from 'commander';
import type { Hold } from '../controls/types.js';
import { remediationRegistry } from '../remediations/index.js';
import { contractAction, EXIT, UsageError, withConfig, withExamples, withJson } from './contract.js';
import { actor, isoTime, reasonText, withControls } from './control-context.js';
import { type CommandIo, processIo } from './io.js';

/**
 * `vigil hold list` / `hold clear KIND TARGET`: the holds that stop automatic runs on a target
 * (vigil places one when a run was ineffective or failed too often) and vigil's do-not-deploy
 * memory; a human clears a hold once they have looked. `vigil breaker list` / `breaker close`:
 * the fleet-wide open breakers, and a human's reset (every replica's local breaker follows).
 * Exit 0 done, 1 nothing under that name, 2 bad input or Redis unreachable.
 */
interface ListOptions {
  readonly config: string;
  readonly json?: boolean;
}

interface ClearOptions {
  readonly config: string;
  readonly as?: string;
  readonly reason?: string;
}

export async function runHoldList(options: ListOptions, io: CommandIo = processIo): Promise<number> {
  return withControls(options.config, io, async (context) => {
    const holds = await context.controls.holds();
    const memory = await context.controls.doNotDeploy();
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ holds, doNotDeploy: memory })}\n`);
      return EXIT.ok;
    }
    if (holds.length === 0 && memory.length === 0) io.stdout.write('no holds, no do-not-deploy memory\n');
    for (const hold of holds) io.stdout.write(`${describeHold(hold)}\n`);
    for (const entry of memory) {
      io.stdout.write(
        `do-not-deploy ${entry.service} ${entry.commit.slice(0, 12)}  by ${entry.provenance} since ${isoTime(entry.since)} until ${isoTime(entry.until)}: ${entry.evidence}\n`,
      );
    }
    return EXIT.ok;
  });
}

export async function runHoldClear(
  kind: string,
  target: string,
  options: ClearOptions,
  io: CommandIo = processIo,
): Promise<number> {
  knownKind(kind);
  const who = actor(options.as);
  const why = reasonText(options.reason);
  return withControls(options.config, io, async (context) => {
    const held = await context.controls.clearHold(kind, target);
    if (!held) {
      io.stderr.write(`no hold on ${kind} ${target}\n`);
      return EXIT.found;
    }
    // A cleared hold also resets the failure streak it came with: the human has looked.
    await context.counters.resetFailures(kind, target);
    await context.record(who, 'hold-cleared', `hold on ${kind}/${target} cleared: ${why}`, held);
    io.stdout.write(
      `cleared the hold on ${kind}/${target} (${held.reason}); the next decision may act again\n`,
    );
    return EXIT.ok;
  });
}

export async function runBreakerList(options: ListOptions, io: CommandIo = processIo): Promise<number> {
  return withControls(options.config, io, async (context) => {
    const open = await context.counters.openBreakers();
    if (options.json) io.stdout.write(`${JSON.stringify(open)}\n`);
    else if (open.length === 0) io.stdout.write('no breaker is open\n');
    else
      for (const entry of open)
        io.stdout.write(`${entry.kind} ${entry.target}  open until ${isoTime(entry.until)}\n`);
    return EXIT.ok;
  });
}

export async function runBreakerClose(
  kind: string,
  target: string,
  options: ClearOptions,
  io: CommandIo = processIo,
): Promise<number> {
  knownKind(kind);
  const who = actor(options.as);
  return withControls(options.config, io, async (context) => {
    const open = (await context.counters.openBreakers()).find((e) => e.kind === kind && e.target === target);
    await context.counters.closeBreaker(kind, target);
    await context.controls.resetBreaker(kind, target);
    const why = options.reason?.trim() || 'closed by hand';
    await context.record(who, 'breaker-closed', `breaker of ${kind}/${target} closed: ${why}`, {
      kind,
      target,
    });
    io.stdout.write(
      `closed the breaker of ${kind}/${target}${open ? '' : ' (it was not open in Redis; local breakers reset)'}\n`,
    );
    return EXIT.ok;
  });
}

function describeHold(hold: Hold): string {
  return `${hold.kind} ${hold.target}  held by ${hold.by} since ${isoTime(hold.since)} until ${isoTime(hold.until)}: ${hold.reason}`;
}

function knownKind(kind: string): void {
  if (!remediationRegistry.kinds.includes(kind))
    throw new UsageError(
      `KIND: expected one of ${remediationRegistry.kinds.join(', ')}, got ${JSON.stringify(kind)}`,
    );
}

export function registerHoldCommands(program: Command): void {
  const hold = program
    .command('hold')
    .description('holds that stop automatic runs on a target, and their reset');
  withExamples(
    withJson(withConfig(hold.command('list').description('list holds and the do-not-deploy memory'), true)),
    'vigil hold list -c examples/nba-props.yaml',
  ).action(contractAction((options: ListOptions) => runHoldList(options)));
  withExamples(
    withConfig(
      hold
        .command('clear')
        .description('clear the hold on KIND TARGET (audited with your name, announced)')
        .argument('<kind>', 'remediation kind, e.g. run-job')
        .argument('<target>', 'service or job name')
        .option('--as <name>', 'who clears it (default: $USER)')
        .option('--reason <text>', 'why (required)'),
      true,
    ),
    'vigil hold clear run-job grading-backfill --as alice --reason "ensemble_v1 actuals reloaded" -c examples/nba-props.yaml',
  ).action(
    contractAction((kind: string, target: string, options: ClearOptions) =>
      runHoldClear(kind, target, options),
    ),
  );
  const breaker = program
    .command('breaker')
    .description('fleet-wide circuit breakers per remediation target');
  withExamples(
    withJson(withConfig(breaker.command('list').description('list open breakers'), true)),
    'vigil breaker list -c examples/nba-props.yaml',
  ).action(contractAction((options: ListOptions) => runBreakerList(options)));
  withExamples(
    withConfig(
      breaker
        .command('close')
        .description('close the breaker of KIND TARGET on every replica (audited, announced)')
        .argument('<kind>', 'remediation kind')
        .argument('<target>', 'service or job name')
        .option('--as <name>', 'who closes it (default: $USER)')
        .option('--reason <text>', 'why'),
      true,
    ),
    'vigil breaker close redeploy-service nba-phase4-precompute-processors --as alice -c examples/nba-props.yaml',
  ).action(
    contractAction((kind: string, target: string, options: ClearOptions) =>
      runBreakerClose(kind, target, options),
    ),
  );
}
