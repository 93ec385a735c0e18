import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/core/errors.js';
import { classifyGcpError } from '../../src/platform/index.js';

const withCode = (code: unknown, message = 'boom') => Object.assign(new Error(message), { code });

describe('classifyGcpError', () => {
  it.each([
    [withCode(429), TransientError, 'gcp-rate-limited'],
    [withCode(500), TransientError, 'gcp-unavailable'],
    [withCode(503), TransientError, 'gcp-unavailable'],
    [withCode(408), TransientError, 'gcp-timeout'],
    [withCode('ECONNREFUSED'), TransientError, 'gcp-unreachable'],
    [
      new Error('request to http://127.0.0.1:1 failed, reason: connect ECONNREFUSED'),
      TransientError,
      'gcp-unreachable',
    ],
    [new Error('outer', { cause: withCode('ECONNRESET') }), TransientError, 'gcp-unreachable'],
    [new DOMException('The operation timed out.', 'TimeoutError'), TransientError, 'gcp-timeout'],
    [withCode(14), TransientError, 'gcp-unavailable'],
    [withCode(400), PermanentError, 'gcp-invalid'],
    [withCode(403), PermanentError, 'gcp-denied'],
    [withCode(404), PermanentError, 'gcp-not-found'],
    [withCode(409), PermanentError, 'gcp-conflict'],
    [withCode(501), PermanentError, 'gcp-unimplemented'],
    [withCode(5), PermanentError, 'gcp-not-found'],
    [withCode(9), PermanentError, 'gcp-invalid'],
    [new Error('weird'), PermanentError, 'gcp-failed'],
  ])('%s → %s %s', (error, kind, code) => {
    const classified = classifyGcpError(error, 'call');

    expect(classified).toBeInstanceOf(kind);
    expect(classified.code).toBe(code);
    expect(classified.cause).toBe(error);
  });

  it('keeps an already classified error', () => {
    const error = new TransientError('x', { code: 'gcp-timeout' });

    expect(classifyGcpError(error, 'call')).toBe(error);
  });
});
