import { describe, expect, it } from 'vitest';
import { EXIT, integerFlag, reportError, UsageError } from '../../src/commands/contract.js';
import { ConfigError } from '../../src/core/errors.js';
import { capture } from '../support/capture.js';

function report(error: unknown, debug = false): { code: number; text: string } {
  const stderr = capture();
  const stdout = capture();
  const code = reportError(error, { stdout: stdout.stream, stderr: stderr.stream }, debug);
  expect(stdout.text()).toBe('');
  return { code, text: stderr.text() };
}

describe('command-line contract: errors', () => {
  it('prints a config error as a headline and its located problems, once each', () => {
    const { code, text } = report(
      new ConfigError('v.yaml: 1 problem', ['v.yaml:3 http.port: expected number']),
    );

    expect(code).toBe(EXIT.invalid);
    expect(text).toBe('error: v.yaml: 1 problem\n  v.yaml:3 http.port: expected number\n');
  });

  it('names the path of a file error and prints no stack trace', () => {
    const error = Object.assign(new Error("ENOENT: no such file or directory, open 'x.yaml'"), {
      code: 'ENOENT',
      path: 'x.yaml',
    });

    expect(report(error)).toEqual({ code: 2, text: 'error: x.yaml: file not found\n' });
  });

  it('shows the stack trace of an unexpected error only with --debug', () => {
    const error = new Error('something broke');

    expect(report(error).text).toBe('error: something broke\n  (run with --debug for the stack trace)\n');
    expect(report(error, true).text).toContain('at ');
  });

  it('scrubs secrets from every line it prints', () => {
    const { text } = report(
      new Error('cannot reach redis://admin:hunter2@db:6379 via hooks.slack.com/services/T1/B2/x'),
      true,
    );

    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('T1/B2');
  });

  it('parses whole-number flags or says which flag is wrong', () => {
    expect(integerFlag('--port', '8080', 0, 65_535)).toBe(8080);
    for (const bad of ['abc', '80.5', '70000', ''])
      expect(() => integerFlag('--port', bad, 0, 65_535)).toThrow(UsageError);
    expect(() => integerFlag('--port', 'abc', 0, 65_535)).toThrow(
      '--port: expected a whole number from 0 to 65535, got "abc"',
    );
  });
});
