import { describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/store/keys.js';

describe('redis key names', () => {
  it('spell one key the same whether the namespace is written with a trailing colon or not', () => {
    const bare = redisKeys('vigil');
    const colon = redisKeys('vigil:');

    expect(colon.counter('cooldown', 'restart-service', 'svc')).toBe(
      bare.counter('cooldown', 'restart-service', 'svc'),
    );
    expect(bare.counter('runs', 'restart-service')).toBe('vigil:policy:runs:restart-service');
    expect(bare.counter('cooldown', 'restart-service', 'svc')).toBe(
      'vigil:policy:cooldown:restart-service|svc',
    );
    expect(bare.series('m{a="b"}')).toBe('vigil:series:m{a="b"}');
    expect(bare.approval('granted', 'f1')).toBe('vigil:approval:granted:f1');
    expect(bare.collectorLease('c1')).toBe('vigil:collector-lease:c1');
    expect(colon.bullmq).toBe('vigil');
  });

  it('refuses an empty namespace', () => {
    expect(() => redisKeys(':')).toThrow('must not be empty');
  });
});
