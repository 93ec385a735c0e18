import type { Command } from 'commander';
import { type Clock, systemClock } from '../core/clock.js';
import { contractAction, EXIT, withConfig, withExamples } from './contract.js';
import { actor, durationFlag, isoTime, reasonText, withControls } from './control-context.js';
import { type CommandIo, processIo } from './io.js';

/**
 * `vigil pause [--for 2h] --as NAME --reason TEXT` / `vigil resume --as NAME`: the fleet-wide
 * kill switch in Redis. Every replica's gates (at decision time and again when a job runs) skip
 * with `vigil is paused by NAME …`; the policy file's `mode: off` keeps working beside it.
 * Exit 0 done, 1 `resume` when vigil was not paused, 2 bad input or Redis unreachable.
 */
interface PauseOptions {
  readonly config: string;
  readonly as?: string;
  readonly reason?: string;
  readonly for?: string;
}

export async function runPause(
  options: PauseOptions,
  io: CommandIo = processIo,
  clock: Clock = systemClock,
): Promise<number> {
  const who = actor(options.as);
  const why = reasonText(options.reason);
  const forMs = options.for === undefined ? undefined : durationFlag('--for', options.for);
  return withControls(
    options.config,
    io,
    async (context) => {
      const now = context.clock.now();
      const pause = { by: who, reason: why, since: now, until: forMs === undefined ? null : now + forMs };
      await context.controls.pause(pause);
      const until = isoTime(pause.until);
      await context.record(
        who,
        'paused',
        `vigil paused fleet-wide ${pause.until === null ? until : `until ${until}`}: ${why}`,
        pause,
      );
      io.stdout.write(
        `vigil is paused on every replica ${pause.until === null ? '(until vigil resume)' : `until ${until}`}\n`,
      );
      return EXIT.ok;
    },
    clock,
  );
}

export async function runResume(
  options: PauseOptions,
  io: CommandIo = processIo,
  clock: Clock = systemClock,
): Promise<number> {
  const who = actor(options.as);
  return withControls(
    options.config,
    io,
    async (context) => {
      const ended = await context.controls.resume();
      if (!ended) {
        io.stderr.write('vigil is not paused\n');
        return EXIT.found;
      }
      const why = options.reason?.trim() || 'resumed';
      await context.record(
        who,
        'resumed',
        `vigil resumed (paused by ${ended.by}: ${ended.reason}): ${why}`,
        ended,
      );
      io.stdout.write(`vigil resumed (it was paused by ${ended.by} since ${isoTime(ended.since)})\n`);
      return EXIT.ok;
    },
    clock,
  );
}

export function registerPauseCommands(program: Command): void {
  withExamples(
    withConfig(
      program
        .command('pause')
        .description('pause every automatic remediation on every replica (audited, announced)')
        .option('--for <duration>', 'resume by itself after this long, e.g. 2h (default: until vigil resume)')
        .option('--as <name>', 'who pauses (default: $USER)')
        .option('--reason <text>', 'why (required)'),
      true,
    ),
    'vigil pause --for 2h --as alice --reason "BigQuery incident, hands off" -c examples/nba-props.yaml',
  ).action(contractAction((options: PauseOptions) => runPause(options)));
  withExamples(
    withConfig(
      program
        .command('resume')
        .description('end a pause (audited, announced)')
        .option('--as <name>', 'who resumes (default: $USER)')
        .option('--reason <text>', 'why'),
      true,
    ),
    'vigil resume --as alice -c examples/nba-props.yaml',
  ).action(contractAction((options: PauseOptions) => runResume(options)));
}
