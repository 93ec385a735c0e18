import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { runBacktest } from '../src/commands/backtest.js';
import { report, say } from './report.js';

/** `vigil backtest` end to end over a 1,000,000-row CSV (read, detect, write), per kind. */
const ROWS = 1_000_000;

async function writeInput(file: string): Promise<void> {
  const out = createWriteStream(file);
  let chunk = 'timestamp,value\n';
  let level = 100;
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < ROWS; i++) {
    level += Math.sin(i * 0.7) * 0.5;
    const value = level + 5 * Math.sin(i * 12.9898) + (i % 50_000 === 0 ? 80 : 0);
    chunk += `${new Date(start + i * 60_000).toISOString().slice(0, 19).replace('T', ' ')},${value.toFixed(3)}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  out.end(chunk);
  await finished(out);
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  try {
    const input = join(dir, 'input.csv');
    await writeInput(input);
    const size = (statSync(input).size / 1e6).toFixed(0);
    say(`backtest: ${ROWS.toLocaleString('en')} rows (${size} MB), end to end`);
    for (const kind of ['zscore', 'robust-zscore', 'seasonal-zscore', 'ewma', 'threshold']) {
      const started = performance.now();
      const code = await runBacktest(
        { detector: kind, input, output: join(dir, `${kind}.csv`) },
        { stdout: new PassThrough(), stderr: new PassThrough() },
      );
      const seconds = (performance.now() - started) / 1000;
      report({
        bench: 'backtest',
        figure: kind,
        value: seconds,
        unit: 's',
        note: `${(ROWS / seconds / 1e3).toFixed(0)} k rows/s  exit ${code}`,
        target: { op: '<=', value: 5 },
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
