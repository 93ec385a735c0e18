import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedis, evictionProblem, pingRedis, reconnectDelay } from '../../src/store/redis.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/redis-server.js';

const servers: ThrowawayRedis[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

describe('redis connection', () => {
  it('backs off exponentially from 100 ms up to the cap', () => {
    expect([1, 2, 3, 4, 8, 50].map((attempt) => reconnectDelay(attempt, 2_000))).toEqual([
      100, 200, 400, 800, 2_000, 2_000,
    ]);
  });

  it('flags a Redis that may evict keys, and accepts noeviction', async () => {
    const evicting = await startThrowawayRedis(['--maxmemory-policy', 'allkeys-lru']);
    const safe = await startThrowawayRedis(['--maxmemory-policy', 'noeviction']);
    servers.push(evicting, safe);
    const a = new Redis(evicting.url);
    const b = new Redis(safe.url);

    const problems = [await evictionProblem(a), await evictionProblem(b)];

    expect(problems).toEqual([
      'redis maxmemory-policy is "allkeys-lru"; vigil needs "noeviction" (evicted lock keys cause double remediation)',
      null,
    ]);
    a.disconnect();
    b.disconnect();
  });

  it('reports a reason instead of hanging when not connected', async () => {
    const redis = createRedis(
      { url: 'redis://127.0.0.1:1', connectTimeoutMs: 200, maxRetryDelayMs: 100 },
      pino({ level: 'silent' }),
    );

    expect(await pingRedis(redis, 500)).toBe('redis wait');
    redis.disconnect();
  });
});
