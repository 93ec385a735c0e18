import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { contractAction, UsageError, withConfig, withExamples, withJson } from './contract.js';
import { type CommandIo, exitCodeFor, processIo } from './io.js';

/** `vigil config check FILE`: validates a config offline with the daemon's own loader. Exit 0 or 2. */
export async function checkConfigFile(file: string, io: CommandIo, json = false): Promise<number> {
  try {
    const config = await loadConfig(file);
    if (json) {
      io.stdout.write(
        `${JSON.stringify({ file, ok: true, collectors: config.collectors.length, detectors: config.detectors.length, notifiers: config.notifiers.length, policy_file: config.policy_file ?? null })}\n`,
      );
      return 0;
    }
    io.stdout.write(
      `${file}: ok (${config.collectors.length} collectors, ${config.detectors.length} detector bindings, ` +
        `${config.notifiers.length} notifiers${config.policy_file ? `, policy ${config.policy_file}` : ''})\n`,
    );
    return 0;
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('work with vigil config files');
  const check = config
    .command('check')
    .description(
      'validate a config file: every problem is printed as file:line path: message (exit 0 ok, 2 invalid)',
    )
    .argument('[file]', 'config file (YAML); same as -c');
  withExamples(
    withJson(withConfig(check, false)),
    'vigil config check -c examples/nba-props.yaml',
    'vigil config check examples/minimal.yaml --json',
  ).action(
    contractAction(async (file: string | undefined, options: { config?: string; json?: boolean }) => {
      const chosen = options.config ?? file;
      if (!chosen) throw new UsageError('config check: give the config file as -c FILE');
      if (options.config && file && options.config !== file)
        throw new UsageError(`config check: two files given (${file} and -c ${options.config}); give one`);
      return checkConfigFile(chosen, processIo, options.json === true);
    }),
  );
}
