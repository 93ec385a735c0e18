import type { Command } from 'commander';
import type { Sandbox, SandboxOptions } from '../sandbox/index.js';
import { contractAction, UsageError } from './contract.js';

/** Raw `vigil sandbox` options as commander hands them over (strings until validated). */
export interface SandboxCommandOptions {
  readonly port?: string;
  readonly scenario?: string;
  readonly seed?: string;
  readonly at?: string;
  readonly operationDelayMs?: string;
}

export interface RunningSandboxCommand {
  readonly sandbox: Sandbox;
  /** Milliseconds from the call to the server accepting requests. */
  readonly startupMs: number;
  stop(): Promise<void>;
}

/** The default port, so a config written once keeps working across runs; `--port 0` picks a free one. */
export const DEFAULT_SANDBOX_PORT = 9050;

/**
 * Starts the sandbox and prints, as shell lines, everything a vigil config needs to target it.
 * Resolves once it listens; `stop()` closes it. The printed lines are valid `sh`: comments and
 * `export NAME='value'`.
 */
export async function startSandboxCommand(
  raw: SandboxCommandOptions,
  print: (line: string) => void,
): Promise<RunningSandboxCommand> {
  const started = performance.now();
  // Loaded on demand: DuckDB's native module must not slow down every other vigil command.
  const { startSandbox } = await import('../sandbox/index.js');
  const sandbox = await startSandbox(toOptions(raw)).catch((error: unknown) => {
    // The simulated calendar is the one to say a day is out of range; it is still the flag's fault.
    if (error instanceof RangeError && raw.at !== undefined)
      throw new UsageError(`--at ${raw.at}: ${error.message}`);
    throw error;
  });
  const startupMs = Math.round(performance.now() - started);
  const state = sandbox.state();
  print(
    `# vigil sandbox: scenario ${state.scenario} (seed ${state.seed}) at day ${state.day}, ${state.date}; ready in ${startupMs} ms`,
  );
  for (const [name, value] of Object.entries(sandbox.env)) print(`export ${name}=${shellQuote(value)}`);
  print(
    `# control API: curl -s ${sandbox.url}/sandbox/state | curl -s -XPOST ${sandbox.url}/sandbox/advance -d '{"days":1}'`,
  );
  print('# Ctrl-C stops the sandbox and deletes its git repository.');
  return { sandbox, startupMs, stop: () => sandbox.close() };
}

/** Adds `vigil sandbox` to the CLI; runs until SIGINT or SIGTERM. */
export function registerSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    .description(
      'run the local BigQuery + Cloud Run emulator replaying the seed incident, and print the env to target it',
    )
    .option('--port <n>', 'TCP port on 127.0.0.1 (0 picks a free one)', String(DEFAULT_SANDBOX_PORT))
    .option('--scenario <file>', 'scenario YAML file (default: the seed incident)')
    .option('--seed <n>', 'override the scenario seed')
    .option(
      '--at <day|date>',
      "simulated day to open at, as a day number or YYYY-MM-DD (default: the scenario's)",
    )
    .option('--operation-delay-ms <n>', 'how long Cloud Run operations take to complete', '50')
    .addHelpText(
      'after',
      '\nExamples:\n  $ vigil sandbox\n  $ vigil sandbox --port 0 --at 2026-02-14 --seed 7',
    )
    .action(
      contractAction(async (options: SandboxCommandOptions) => {
        const running = await startSandboxCommand(options, (line) => process.stdout.write(`${line}\n`));
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await running.stop();
        return 0;
      }),
    );
}

function toOptions(raw: SandboxCommandOptions): SandboxOptions {
  const problems: string[] = [];
  const integer = (flag: string, text: string | undefined, max: number): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value > max) {
      problems.push(`--${flag}: expected an integer from 0 to ${max}, got ${JSON.stringify(text)}`);
      return undefined;
    }
    return value;
  };
  const port = integer('port', raw.port, 65_535);
  const seed = integer('seed', raw.seed, 2 ** 32 - 1);
  const operationDelayMs = integer('operation-delay-ms', raw.operationDelayMs, 600_000);
  if (raw.at !== undefined && !/^(\d+|\d{4}-\d{2}-\d{2})$/.test(raw.at)) {
    problems.push(`--at: expected a day number or YYYY-MM-DD, got ${JSON.stringify(raw.at)}`);
  }
  if (problems.length > 0) throw new UsageError('invalid vigil sandbox options', problems);
  return {
    ...(port !== undefined ? { port } : {}),
    ...(raw.scenario !== undefined ? { scenario: raw.scenario } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(raw.at !== undefined ? { at: /^\d+$/.test(raw.at) ? Number(raw.at) : raw.at } : {}),
    ...(operationDelayMs !== undefined ? { operationDelayMs } : {}),
  };
}

/** Single-quotes a value for sh (URLs and temp paths are safe, but a scenario path may not be). */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
