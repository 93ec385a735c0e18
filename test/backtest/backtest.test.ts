import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerBacktestCommand, runBacktest } from '../../src/commands/backtest.js';
import { coverageDrop } from '../fixtures/seed-shapes.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-backtest-'));

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

function seedCsv(name = 'vegas_line_coverage.csv', eol = '\n'): string {
  const shape = coverageDrop();
  const rows = Array.from(shape.values, (value, index) => {
    const timestamp = new Date(shape.timestamps[index] as number)
      .toISOString()
      .replace('T', ' ')
      .slice(0, 19);
    return `${timestamp},${value}`;
  });
  const file = join(dir, name);
  writeFileSync(file, ['timestamp,value', ...rows].join(eol) + eol);
  return file;
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('runBacktest', () => {
  it('writes one row per input row with score, severity and reason, streaming', async () => {
    const input = seedCsv('vegas_line_coverage.csv', '\r\n');
    const stdout = capture();
    const stderr = capture();

    const code = await runBacktest(
      {
        detector: 'zscore',
        options: '{"window":"28d","direction":"down","min_history":7}',
        input,
        summary: true,
      },
      { stdout: stdout.stream, stderr: stderr.stream },
    );

    const lines = stdout.text().trim().split('\n');
    expect(code).toBe(0);
    expect(lines[0]).toBe('timestamp,value,anomaly_score,severity,reason');
    expect(lines).toHaveLength(32);
    expect(lines[1]).toMatch(
      /^2026-01-05 00:00:00,[\d.]+,0,insufficient-history,"vegas_line_coverage: only 0 usable points in the window, 7 needed"$/,
    );
    expect(lines[29]).toMatch(
      /^2026-02-02 00:00:00,44.7,0\.\d+,critical,vegas_line_coverage 44\.7% is [\d.]+σ below its 28-day mean/,
    );
    // An ok row has nothing to explain: its reason column is empty.
    const okRows = lines.slice(1).filter((line) => line.split(',')[3] === 'ok');
    expect(okRows).toHaveLength(21);
    for (const line of okRows) expect(line).toMatch(/,ok,$/);
    for (const line of lines.slice(1)) {
      const score = Number(line.split(',')[2]);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    expect(stderr.text()).toMatch(
      /^rows 31: ok 21, warning 0, critical 3, insufficient-history 7\nfindings raised: 1\n/,
    );
  });

  it('damps the scores of an episode that is already open', async () => {
    const input = seedCsv();
    const out = join(dir, 'out.csv');

    await runBacktest(
      {
        detector: 'zscore',
        options: '{"window":"28d","direction":"down","min_history":7}',
        input,
        output: out,
      },
      { stdout: new PassThrough(), stderr: new PassThrough() },
    );

    const scores = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .slice(-3)
      .map((line) => Number(line.split(',')[2]));
    expect(scores[0]).toBeGreaterThan(0.5);
    expect(scores[1]).toBeLessThan(0.1);
    expect(scores[2]).toBeLessThan(0.1);
  });

  it.each([
    [
      { detector: 'zscore', options: '{"windw":3}' },
      /invalid detector options[\s\S]*Unrecognized key: "windw"/,
    ],
    [{ detector: 'zscore', options: 'not json' }, /--options is not valid JSON/],
    [{ detector: 'prophet' }, /unknown detector kind "prophet"/],
    [{ config: 'vigil.yaml' }, /--config needs --series NAME/],
  ])('exits 2 on bad arguments %j', async (options, message) => {
    const stderr = capture();

    const code = await runBacktest(
      { ...options, input: seedCsv() },
      { stdout: new PassThrough(), stderr: stderr.stream },
    );

    expect(code).toBe(2);
    expect(stderr.text()).toMatch(message);
  });

  it('runs the default detector, auto, when no --detector is given', async () => {
    const output = join(dir, 'auto.csv');

    const code = await runBacktest(
      { input: seedCsv(), output },
      { stdout: new PassThrough(), stderr: capture().stream },
    );

    expect(code).toBe(0);
    const rows = readFileSync(output, 'utf8').trim().split('\n').slice(1);
    expect(rows.some((row) => row.includes(',critical,'))).toBe(true);
  });

  it('takes a real export: date-only stamps, a replayed hour scored in input order and counted, --json summary', async () => {
    const input = join(dir, 'export.csv');
    const days = Array.from({ length: 40 }, (_, day) =>
      new Date(Date.UTC(2026, 0, 1 + day)).toISOString().slice(0, 10),
    );
    const hours = Array.from(
      { length: 48 },
      (_, hour) => `2026-02-10 ${String(hour % 24).padStart(2, '0')}:00:00`,
    );
    // Hours 0..23 of the 10th, then the same hour 05:00-06:00 replayed (timestamps go back).
    const rows = [
      ...days.map((day, i) => `${day},${100 + (i % 3)}`),
      ...hours.slice(0, 8).map((hour, i) => `${hour},${100 + (i % 2)}`),
      ...hours.slice(5, 7).map((hour) => `${hour},101`),
      ...hours.slice(8, 12).map((hour) => `${hour},100`),
    ];
    writeFileSync(input, `timestamp,value\n${rows.join('\n')}\n`);
    const output = join(dir, 'export-scored.csv');
    const stdout = capture();

    const code = await runBacktest(
      { input, output, json: true },
      { stdout: stdout.stream, stderr: capture().stream },
    );

    expect(code).toBe(0);
    const written = readFileSync(output, 'utf8').trim().split('\n').slice(1);
    expect(written.map((row) => row.split(',')[0])).toEqual(rows.map((row) => row.split(',')[0]));
    const summary = JSON.parse(stdout.text());
    expect(summary).toMatchObject({
      rows: rows.length,
      repeatedTimestamps: 0,
      backwardTimestamps: 2,
      badRows: [],
    });
    const strict = capture();
    expect(
      await runBacktest(
        { input, output, strict: true },
        { stdout: new PassThrough(), stderr: strict.stream },
      ),
    ).toBe(2);
    expect(strict.text()).toMatch(
      /line 50: timestamp 2026-02-10 05:00:00 is earlier than the row before \(--strict\)/,
    );
  });

  it('skips up to --max-bad-rows unreadable rows and lists them in the summary', async () => {
    const input = join(dir, 'bad-rows.csv');
    writeFileSync(input, 'timestamp,value\n2026-01-05,1\n2026-01-06,oops\n2026-01-07\n2026-01-08,2\n');
    const stopped = capture();
    expect(
      await runBacktest(
        { input, output: join(dir, 'b.csv') },
        { stdout: new PassThrough(), stderr: stopped.stream },
      ),
    ).toBe(2);
    expect(stopped.text()).toContain('2 bad rows');
    expect(stopped.text()).toContain('line 3: value "oops" is not a number');
    expect(stopped.text()).toContain('line 4: expected 2 columns');
    const stdout = capture();

    const code = await runBacktest(
      { input, output: join(dir, 'b.csv'), json: true, maxBadRows: 2 },
      { stdout: stdout.stream, stderr: capture().stream },
    );

    expect(code).toBe(0);
    expect(JSON.parse(stdout.text()).badRows.map((row: { line: number }) => row.line)).toEqual([3, 4]);
  });

  it('exits 2 with the line number on a bad CSV', async () => {
    const input = join(dir, 'bad.csv');
    writeFileSync(input, 'timestamp,value\n2026-01-05 00:00:00,1\n2026-01-05 01:00:00,oops\n');
    const stderr = capture();

    const code = await runBacktest(
      { detector: 'zscore', input },
      { stdout: new PassThrough(), stderr: stderr.stream },
    );

    expect(code).toBe(2);
    expect(stderr.text()).toBe('vigil backtest: line 3: value "oops" is not a number\n');
  });

  it('uses the binding of a config file for --config --series, and locates bad options', async () => {
    const input = seedCsv();
    const config = join(dir, 'vigil.yaml');
    writeFileSync(
      config,
      [
        'detectors:',
        '  - metric: vegas_line_coverage',
        '    use:',
        '      - kind: threshold',
        '      - kind: zscore',
        '        options: { direction: down, window: 28d, min_history: 7 }',
        '  - metric: other',
        '    use:',
        '      - kind: zscore',
        '        options: { treshold: 3 }',
        '',
      ].join('\n'),
    );
    const stderr = capture();

    const code = await runBacktest(
      { config, series: 'vegas_line_coverage', input },
      { stdout: new PassThrough(), stderr: stderr.stream },
    );

    expect(code).toBe(2);
    expect(stderr.text()).toContain(
      `${config}:10 detectors[1].use[0].options.treshold: unknown key (did you mean "threshold"?)`,
    );
  });

  it('reads a valid config binding', async () => {
    const input = seedCsv();
    const config = join(dir, 'good.yaml');
    writeFileSync(config, 'detectors:\n  - metric: vegas_line_coverage\n    use:\n      - kind: threshold\n');
    const stdout = capture();

    const code = await runBacktest(
      { config, series: 'vegas_line_coverage', input },
      { stdout: stdout.stream, stderr: new PassThrough() },
    );

    expect(code).toBe(0);
    expect(stdout.text()).toContain(
      'vegas_line_coverage 44.7% breaches its critical SLO band (warning below 80%, critical below 50%)',
    );
  });
});

describe('registerBacktestCommand', () => {
  it('registers `backtest` with an example in --help', () => {
    const program = new Command().exitOverride();
    let help = '';
    program.configureOutput({ writeOut: (text) => (help += text) });
    registerBacktestCommand(program);

    expect(() => program.parse(['backtest', '--help'], { from: 'user' })).toThrow();
    expect(help).toContain('Examples:');
    expect(help).toContain('vigil backtest --detector robust-zscore history.csv -o scored.csv --summary');
  });

  it('runs through commander and sets the exit code', async () => {
    const input = seedCsv();
    const out = join(dir, 'cli.csv');
    const program = new Command();
    registerBacktestCommand(program);
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);

    await program.parseAsync(['backtest', '--detector', 'threshold', input, '-o', out], { from: 'user' });

    write.mockRestore();
    expect(process.exitCode).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')).toHaveLength(33);
  });
});
