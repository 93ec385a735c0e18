import { type Command, type CommanderError, Option } from 'commander';
import { ConfigError, errorMessage } from '../core/errors.js';
import { scrubSecrets } from '../core/logger.js';
import { type CommandIo, processIo } from './io.js';

/**
 * The contract every `vigil` command keeps (README "Command line"):
 * - exit 0 ok, 1 found something (anomalies, a broken chain, nothing under that id),
 *   2 could not do what was asked (usage error, bad or missing input, an unreachable dependency);
 * - bad input prints located one-line problems, never a stack trace (`--debug` adds it);
 * - every message passes through the secret scrubber;
 * - `-c/--config FILE` wherever a config is read, `--json` wherever it lists or reports,
 *   an example in every `--help`.
 * Commands build on the helpers here so the rule lives in one place.
 */
export const EXIT = { ok: 0, found: 1, invalid: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Bad command-line input (a flag's value, a missing argument): exit 2, no stack trace. */
export class UsageError extends ConfigError {
  constructor(message: string, problems: readonly string[] = []) {
    super(message, problems, { code: 'usage' });
  }
}

/** Options every command may carry; commander passes them with the command's own. */
export interface CommonOptions {
  readonly debug?: boolean;
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'file not found',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'a parent of the path is not a directory',
};

/** Socket errors a person can act on; the address is in the error, the fix is here. */
const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'is already in use: stop what listens there or choose another port',
  EADDRNOTAVAIL: 'is not an address of this machine',
  ECONNREFUSED: 'refused the connection: is the server running and listening there?',
};

/**
 * Prints any thrown value as the contract says and returns its exit code (always 2: a command
 * that found something returns 1 itself, it does not throw).
 */
export function reportError(error: unknown, io: CommandIo = processIo, debug = false): ExitCode {
  const write = (line: string): void => {
    io.stderr.write(`${scrubSecrets(line)}\n`);
  };
  if (error instanceof ConfigError) {
    write(`error: ${error.message}`);
    for (const problem of error.problems) if (problem !== error.message) write(`  ${problem}`);
  } else {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const path = (error as NodeJS.ErrnoException | undefined)?.path;
    const { address, port } = (error ?? {}) as { address?: string; port?: number };
    const fileReason = typeof code === 'string' && path ? FILE_ERRORS[code] : undefined;
    const socketReason = typeof code === 'string' && address ? SOCKET_ERRORS[code] : undefined;
    if (fileReason) write(`error: ${path}: ${fileReason}`);
    else if (socketReason) write(`error: ${address}${port === undefined ? '' : `:${port}`} ${socketReason}`);
    else write(`error: ${errorMessage(error)}`);
    if (!debug && !fileReason && !socketReason) write('  (run with --debug for the stack trace)');
  }
  if (debug && error instanceof Error && error.stack) write(error.stack);
  return EXIT.invalid;
}

/** Prints a thrown error and returns its exit code; the name commands used before the contract. */
export const exitCodeFor = (error: unknown, io: CommandIo = processIo): ExitCode => reportError(error, io);

/**
 * Wraps a command body for `.action()`: its returned exit code becomes the process's, and a
 * throw is reported by `reportError`. The body gets commander's arguments unchanged.
 */
export function contractAction<A extends unknown[]>(
  body: (...args: A) => Promise<number> | number,
  io: CommandIo = processIo,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args[args.length - 1];
    const debug =
      command instanceof Object && 'optsWithGlobals' in command
        ? (command as Command).optsWithGlobals<CommonOptions>().debug === true
        : false;
    try {
      process.exitCode = await body(...args);
    } catch (error) {
      process.exitCode = reportError(error, io, debug);
    }
  };
}

/** `-c, --config <file>`, the one spelling every command that reads a config uses. */
export function withConfig(command: Command, required: boolean, what = 'config file (YAML)'): Command {
  const option = new Option('-c, --config <file>', what);
  if (required) option.makeOptionMandatory();
  return command.addOption(option);
}

/** `--json`: machine-readable output, one JSON document (or one per line for streams). */
export function withJson(command: Command, what = 'print JSON instead of text'): Command {
  return command.option('--json', what);
}

/** Appends the `Example(s):` block every `--help` shows; a line starting with `#` is a comment. */
export function withExamples(command: Command, ...examples: readonly string[]): Command {
  const title = examples.length === 1 ? 'Example' : 'Examples';
  return command.addHelpText(
    'after',
    `\n${title}:\n${examples.map((line) => (line.startsWith('#') ? `  ${line}` : `  $ ${line}`)).join('\n')}`,
  );
}

/** Parses a whole-number flag or throws a UsageError naming it. */
export function integerFlag(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || value < min || value > max)
    throw new UsageError(
      `${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  return value;
}

/**
 * Applies the contract to the program and (by commander's inheritance) every command added
 * after: usage errors exit 2 instead of commander's 1, `--debug` is known everywhere.
 */
export function applyContract(program: Command): Command {
  return program
    .option('--debug', 'on an error, also print its stack trace')
    .exitOverride((error: CommanderError) => {
      // Help and version exit 0; everything commander rejects is a usage error.
      process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.invalid);
    });
}
