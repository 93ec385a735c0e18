import type { Writable } from 'node:stream';
import { ConfigError } from '../core/errors.js';

/** Streams a command writes to; injected so commands are testable without spawning processes. */
export interface CommandIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export const processIo: CommandIo = { stdout: process.stdout, stderr: process.stderr };

/** Prints a configuration error the way every command does: a headline, then one located problem per line. */
export function reportConfigError(error: ConfigError, io: CommandIo): void {
  io.stderr.write(`error: ${error.message}\n`);
  for (const problem of error.problems) io.stderr.write(`  ${problem}\n`);
}

/** Maps a thrown error to an exit code after printing it: 2 for bad input, 1 otherwise. */
export function exitCodeFor(error: unknown, io: CommandIo): number {
  if (error instanceof ConfigError) {
    reportConfigError(error, io);
    return 2;
  }
  io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}
