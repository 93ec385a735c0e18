import type { Writable } from 'node:stream';

/** Streams a command writes to; injected so commands are testable without spawning processes. */
export interface CommandIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export const processIo: CommandIo = { stdout: process.stdout, stderr: process.stderr };

// Error reporting lives with the rest of the command-line contract.
export { exitCodeFor, reportError } from './contract.js';
