import { Redis, type RedisOptions } from 'ioredis';
import { type Logger, scrubSecrets } from '../core/logger.js';

/**
 * Redis connections for vigil. Reconnection is ioredis's, with a capped exponential backoff
 * and every attempt logged, so an operator watching a pod that is "not ready" sees why.
 * Commands fail fast while disconnected (no offline queue): readiness must reflect reality,
 * not a queue of pending PINGs.
 */
export interface RedisSettings {
  readonly url: string;
  readonly connectTimeoutMs: number;
  readonly maxRetryDelayMs: number;
}

/** Delay before reconnect attempt `attempt` (1-based): 100 ms doubling, capped. */
export function reconnectDelay(attempt: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, 100 * 2 ** Math.min(attempt - 1, 20));
}

export function createRedis(settings: RedisSettings, logger: Logger, extra: RedisOptions = {}): Redis {
  let lastError = '';
  const target = scrubSecrets(settings.url);
  const redis = new Redis(settings.url, {
    lazyConnect: true,
    connectTimeout: settings.connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy(attempt) {
      const delayMs = reconnectDelay(attempt, settings.maxRetryDelayMs);
      logger.warn({ redis: target, attempt, delayMs, error: lastError }, 'redis unavailable, retrying');
      return delayMs;
    },
    ...extra,
  });
  redis.on('error', (error: Error) => {
    lastError = scrubSecrets(error.message);
  });
  redis.on('ready', () => logger.info({ redis: target }, 'redis connected'));
  return redis;
}

/** PING with a deadline; resolves to null when healthy, or the reason it is not. */
export async function pingRedis(redis: Redis, timeoutMs: number): Promise<string | null> {
  if (redis.status !== 'ready') return `redis ${redis.status}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    const reply = await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no PING reply within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return reply === 'PONG' ? null : `unexpected PING reply ${String(reply)}`;
  } catch (error) {
    return `redis ping failed: ${scrubSecrets(error instanceof Error ? error.message : String(error))}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * BullMQ relies on keys never being evicted (lock keys carry TTLs). Returns a reason when the
 * server is configured to evict, null when safe or when the server forbids CONFIG (managed Redis).
 */
export async function evictionProblem(redis: Redis): Promise<string | null> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    // RESP2 and ioredis 6 give ["maxmemory-policy", value]; a RESP3 map decodes to an object.
    const policy = Array.isArray(reply)
      ? String(reply[1])
      : reply && typeof reply === 'object'
        ? String((reply as Record<string, unknown>)['maxmemory-policy'])
        : undefined;
    if (policy === undefined || policy === 'noeviction') return null;
    return `redis maxmemory-policy is "${policy}"; vigil needs "noeviction" (evicted lock keys cause double remediation)`;
  } catch {
    return null;
  }
}

/**
 * Deletes every key under `prefix` (SCAN, never KEYS: the server keeps serving), e.g. what a demo,
 * a benchmark or a test wrote. Keys may contain quotes and braces; MATCH treats only * ? [ specially.
 */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    if (keys.length > 0) deleted += await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

/**
 * A connection for BullMQ (a Queue or a Worker), remembered in `owned` so its owner can close it.
 * BullMQ's blocking worker connection must retry forever; its own timeouts bound each command.
 */
export function bullConnection(url: string, owned: Redis[]): Redis {
  const connection = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  connection.on('error', () => undefined);
  owned.push(connection);
  return connection;
}
