import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type RedisKeys, redisKeys } from '../../src/store/keys.js';
import { deleteKeysWithPrefix } from '../../src/store/redis.js';

export const REDIS_URL = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A Redis client and a key prefix unique to one test; `cleanup()` deletes every key under it. */
export interface TestRedis {
  readonly redis: Redis;
  /** Ends with `:`; every key of the test is under it. */
  readonly prefix: string;
  /** The key names under `prefix` (its namespace). */
  readonly keys: RedisKeys;
  cleanup(): Promise<void>;
}

export async function testRedis(): Promise<TestRedis> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const prefix = `vigil-test:${randomUUID()}:`;
  return {
    redis,
    prefix,
    keys: redisKeys(prefix),
    async cleanup() {
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
    },
  };
}
