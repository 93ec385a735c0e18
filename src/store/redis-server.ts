import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/**
 * A local redis-server on a free port with nothing persisted: what `vigil demo` starts when no
 * Redis answers, and what tests start when they need a Redis to appear, vanish or misbehave.
 */
export interface LocalRedis {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export async function startLocalRedis(
  args: readonly string[] = [],
  options: { port?: number; timeoutMs?: number } = {},
): Promise<LocalRedis> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(new Error(`cannot start redis-server: ${error.message}`))),
  );
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (!(await Promise.race([redisAnswers(url), failed]))) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server on port ${port} did not answer within ${options.timeoutMs ?? 10_000} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, url, process: child, stop };
}

/** True when a Redis at `url` answers PING within a second. */
export async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_000,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
