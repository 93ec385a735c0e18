import { type LocalRedis, startLocalRedis } from '../../src/store/redis-server.js';

/** A throwaway redis-server on a free port, for tests that need Redis to appear, vanish or misbehave. */
export type ThrowawayRedis = LocalRedis;

export function startThrowawayRedis(args: readonly string[] = [], port?: number): Promise<ThrowawayRedis> {
  return startLocalRedis(args, port === undefined ? {} : { port });
}
