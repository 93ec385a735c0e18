import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { type CommandIo, exitCodeFor, processIo } from './io.js';

/** `vigil config check FILE`: validates a config offline with the daemon's own loader. Exit 0 or 2. */
export async function checkConfigFile(file: string, io: CommandIo): Promise<number> {
  try {
    const config = await loadConfig(file);
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
  config
    .command('check')
    .description(
      'validate a config file: every problem is printed as file:line path: message (exit 0 ok, 2 invalid)',
    )
    .argument('<file>', 'config file (YAML)')
    .addHelpText('after', '\nExample:\n  $ vigil config check examples/nba-props.yaml')
    .action(async (file: string) => {
      process.exitCode = await checkConfigFile(file, processIo);
    });
}
