import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const VIGIL_BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

/** A vigil child process with its captured output. */
export interface VigilProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Resolves with the exit code (or 128 + signal number semantics left to the caller). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnVigil(
  args: readonly string[],
  env: Record<string, string> = {},
  bin = VIGIL_BIN,
  options: { cwd?: string; uid?: number; gid?: number } = {},
): VigilProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    ...options,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return {
    child,
    exited,
    output: () => output,
    logs: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Waits for the daemon's "http listening" log line and returns its URL. */
export function waitForHttpUrl(vigil: VigilProcess, timeoutMs = 15_000): Promise<string> {
  return waitFor(
    'vigil http listening',
    () => vigil.logs().find((line) => line.msg === 'http listening')?.url as string | undefined,
    timeoutMs,
  );
}

/** A TCP port nothing listens on right now. */
export { freePort } from '../../src/store/redis-server.js';
