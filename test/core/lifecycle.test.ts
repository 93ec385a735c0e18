import { describe, expect, it } from 'vitest';
import { CleanupError, CleanupStack } from '../../src/core/lifecycle.js';

describe('CleanupStack', () => {
  it('runs every cleanup in reverse order even when some fail, and aggregates the failures', async () => {
    const stack = new CleanupStack();
    const order: string[] = [];
    stack.push('redis', () => {
      order.push('redis');
    });
    stack.push('queue', () => {
      order.push('queue');
      throw new Error('queue close failed');
    });
    stack.push('http', async () => {
      order.push('http');
    });

    const error = await stack.runAll(1_000).catch((e: unknown) => e);

    expect(order).toEqual(['http', 'queue', 'redis']);
    expect(error).toBeInstanceOf(CleanupError);
    expect((error as CleanupError).failures.map((f) => f.name)).toEqual(['queue']);
  });

  it('abandons a cleanup that outlives the deadline and still runs the rest', async () => {
    const stack = new CleanupStack();
    const order: string[] = [];
    stack.push('last', () => {
      order.push('last');
    });
    stack.push('hangs', () => new Promise<void>(() => undefined));

    const error = (await stack.runAll(50).catch((e: unknown) => e)) as CleanupError;

    expect(order).toEqual(['last']);
    expect(error.failures.map((f) => [f.name, (f.error as Error).message])).toEqual([
      ['hangs', 'cleanup "hangs" exceeded the shutdown deadline'],
    ]);
  });

  it('is idempotent: a second run returns the first run and cleans nothing twice', async () => {
    const stack = new CleanupStack();
    let runs = 0;
    stack.push('once', () => {
      runs++;
    });

    await Promise.all([stack.runAll(100), stack.runAll(100)]);

    expect(runs).toBe(1);
    expect(() => stack.push('late', () => undefined)).toThrow('while shutting down');
  });
});
