import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { createRegistry } from '../../src/core/plugin.js';

describe('createRegistry', () => {
  const registry = createRegistry('collector', [{ kind: 'http-probe' }, { kind: 'bigquery-sql' }]);

  it('lists kinds sorted and finds them', () => {
    expect(registry.kinds).toEqual(['bigquery-sql', 'http-probe']);
    expect(registry.get('http-probe').kind).toBe('http-probe');
  });

  it('names the known kinds when asked for an unknown one', () => {
    const error = (() => {
      try {
        registry.get('ping');
      } catch (e) {
        return e;
      }
    })();

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('unknown-kind');
    expect((error as ConfigError).message).toBe(
      'unknown collector kind "ping" (known: bigquery-sql, http-probe)',
    );
  });

  it('refuses a kind registered twice', () => {
    expect(() => createRegistry('detector', [{ kind: 'zscore' }, { kind: 'zscore' }])).toThrow(
      'detector kind "zscore" registered twice',
    );
  });
});
