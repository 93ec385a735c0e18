import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerSandboxCommand, startSandboxCommand } from '../../src/commands/sandbox.js';
import { ConfigError } from '../../src/core/errors.js';
import './helpers.js';

describe('vigil sandbox', () => {
  it('starts, reports its start-up time and prints the exports a config needs', async () => {
    const lines: string[] = [];

    const running = await startSandboxCommand({ port: '0', at: '2026-01-31' }, (line) => lines.push(line));
    try {
      const exports = Object.fromEntries(
        lines
          .filter((line) => line.startsWith('export '))
          .map((line) => {
            const match = /^export (\w+)='(.*)'$/.exec(line);
            return [match?.[1], match?.[2]];
          }),
      );
      expect(Object.keys(exports)).toEqual([
        'VIGIL_GCP_ENDPOINT',
        'VIGIL_GCP_PROJECT',
        'VIGIL_GCP_REGION',
        'VIGIL_GIT_URL',
        'VIGIL_HEALTH_BASE_URL',
        'VIGIL_NOW',
        'VIGIL_VEGAS_FIX_COMMIT',
        'VIGIL_VERIFY_AFTER',
      ]);
      expect(exports.VIGIL_NOW).toMatch(/^2026-01-31T/);
      expect(exports.VIGIL_GCP_ENDPOINT).toBe(running.sandbox.url);
      expect(exports.VIGIL_GIT_URL).toMatch(/^file:\/\/.+platform\.git$/);
      expect(lines[0]).toContain('at day 43, 2026-01-31');
      const state = await fetch(`${exports.VIGIL_GCP_ENDPOINT}/sandbox/state`).then((response) =>
        response.json(),
      );
      expect(state).toMatchObject({ date: '2026-01-31', project: exports.VIGIL_GCP_PROJECT });
      // The start-up time is reported, not bounded here: speed is a benchmark's business, and a
      // wall-clock bound fails on a loaded runner.
      expect(running.startupMs).toBeGreaterThan(0);
    } finally {
      await running.stop();
    }
  });

  it('reports every bad option at once', async () => {
    const error = await startSandboxCommand(
      { port: 'eighty', seed: '-1', at: 'tomorrow' },
      () => undefined,
    ).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      '--port: expected an integer from 0 to 65535, got "eighty"',
      '--seed: expected an integer from 0 to 4294967295, got "-1"',
      '--at: expected a day number or YYYY-MM-DD, got "tomorrow"',
    ]);
  });

  it('registers the command with its options', () => {
    const program = new Command('vigil');

    registerSandboxCommand(program);

    const command = program.commands.find((item) => item.name() === 'sandbox');
    expect(command?.options.map((option) => option.long)).toEqual([
      '--port',
      '--scenario',
      '--seed',
      '--at',
      '--operation-delay-ms',
    ]);
  });
});
