import type { Command } from 'commander';
import type { Silence } from '../controls/types.js';
import { remediationRegistry } from '../remediations/index.js';
import { contractAction, EXIT, UsageError, withConfig, withExamples, withJson } from './contract.js';
import { actor, durationFlag, isoTime, reasonText, withControls } from './control-context.js';
import { type CommandIo, processIo } from './io.js';

/**
 * `vigil silence add --target T [--kind K] --for 4h --as NAME --reason TEXT`, `silence list`,
 * `silence expire ID`: run-time overrides with the policy file's semantics (effect `off`: the
 * decision is `skip: … is off: override silence ID by NAME until …`), without editing the file on
 * every replica. Exit 0 done, 1 no silence under that id, 2 bad input or Redis unreachable.
 */
interface AddOptions {
  readonly config: string;
  readonly target?: string;
  readonly kind?: string;
  readonly for?: string;
  readonly as?: string;
  readonly reason?: string;
}

interface ListOptions {
  readonly config: string;
  readonly json?: boolean;
  readonly as?: string;
}

export async function runSilenceAdd(options: AddOptions, io: CommandIo = processIo): Promise<number> {
  const target = options.target?.trim();
  if (!target) throw new UsageError('--target: say which service or job to silence');
  if (options.kind !== undefined && !remediationRegistry.kinds.includes(options.kind))
    throw new UsageError(
      `--kind: expected one of ${remediationRegistry.kinds.join(', ')}, got ${JSON.stringify(options.kind)}`,
    );
  const forMs = durationFlag('--for', options.for ?? '');
  const who = actor(options.as);
  const why = reasonText(options.reason);
  return withControls(options.config, io, async (context) => {
    const now = context.clock.now();
    const silence = await context.controls.silence({
      target,
      kind: options.kind,
      startsAt: now,
      endsAt: now + forMs,
      createdBy: who,
      reason: why,
    });
    await context.record(who, 'silence-added', `${describe(silence)}`, silence);
    io.stdout.write(`${silence.id}\n`);
    return EXIT.ok;
  });
}

export async function runSilenceList(options: ListOptions, io: CommandIo = processIo): Promise<number> {
  return withControls(options.config, io, async (context) => {
    const silences = await context.controls.silences();
    if (options.json) io.stdout.write(`${JSON.stringify(silences)}\n`);
    else if (silences.length === 0) io.stdout.write('no active silence\n');
    else for (const silence of silences) io.stdout.write(`${describe(silence)}\n`);
    return EXIT.ok;
  });
}

export async function runSilenceExpire(
  id: string,
  options: ListOptions,
  io: CommandIo = processIo,
): Promise<number> {
  const who = actor(options.as);
  return withControls(options.config, io, async (context) => {
    const expired = await context.controls.expireSilence(id);
    if (!expired) {
      io.stderr.write(`no active silence ${id}\n`);
      return EXIT.found;
    }
    await context.record(who, 'silence-expired', `silence ${id} expired: ${describe(expired)}`, expired);
    io.stdout.write(`expired silence ${id}\n`);
    return EXIT.ok;
  });
}

function describe(silence: Silence): string {
  const what = silence.kind ? `${silence.kind}/${silence.target}` : `every remediation of ${silence.target}`;
  return `${silence.id}  ${what} off until ${isoTime(silence.endsAt)} by ${silence.createdBy}: ${silence.reason}`;
}

export function registerSilenceCommands(program: Command): void {
  const silence = program.command('silence').description('run-time overrides (effect off) on a target');
  withExamples(
    withConfig(
      silence
        .command('add')
        .description('silence automatic remediations of a target for a while (audited, announced)')
        .option('--target <name>', 'service or job name (required)')
        .option('--kind <kind>', 'only this remediation kind (default: every kind)')
        .option('--for <duration>', 'how long, e.g. 4h (required)')
        .option('--as <name>', 'who silences (default: $USER)')
        .option('--reason <text>', 'why (required)'),
      true,
    ),
    'vigil silence add --target prediction-worker --kind restart-service --for 4h --as alice --reason "load test" -c examples/nba-props.yaml',
  ).action(contractAction((options: AddOptions) => runSilenceAdd(options)));
  withExamples(
    withJson(withConfig(silence.command('list').description('list active silences'), true)),
    'vigil silence list -c examples/nba-props.yaml',
  ).action(contractAction((options: ListOptions) => runSilenceList(options)));
  withExamples(
    withConfig(
      silence
        .command('expire')
        .description('end a silence now (audited, announced)')
        .argument('<id>', 'the silence id from silence add / silence list')
        .option('--as <name>', 'who ends it (default: $USER)'),
      true,
    ),
    'vigil silence expire s-1a2b3c4d --as alice -c examples/nba-props.yaml',
  ).action(contractAction((id: string, options: ListOptions) => runSilenceExpire(id, options)));
}
