/**
 * `npm run eval`: runs every detector kind, with default options, over the ops-dev set
 * (../shared/data/ops-dev) through the real backtest code path, and prints each kind's score
 * from the set's own scorer. `npm run eval -- zscore ewma` limits the kinds; OPSDEV_DIR overrides
 * the data location; `--options JSON` passes options to every kind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { runBacktest } from '../src/commands/backtest.js';
import { detectorRegistry } from '../src/detectors/index.js';

const dataDir = resolve(
  process.env.OPSDEV_DIR ?? join(import.meta.dirname, '..', '..', 'shared', 'data', 'ops-dev'),
);

async function scoreKind(kind: string, options: string | undefined): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), `vigil-eval-${kind}-`));
  try {
    const series = readdirSync(join(dataDir, 'series')).filter((file) => file.endsWith('.csv'));
    for (const file of series) {
      const stderr = new PassThrough();
      let errors = '';
      stderr.on('data', (data: Buffer) => {
        errors += data.toString();
      });
      const code = await runBacktest(
        {
          detector: kind,
          ...(options ? { options } : {}),
          input: join(dataDir, 'series', file),
          output: join(out, file),
        },
        { stdout: new PassThrough(), stderr },
      );
      if (code !== 0) throw new Error(`backtest ${kind} failed on ${file}: ${errors}`);
    }
    const report = execFileSync(
      'node',
      [join(dataDir, 'score.mjs'), out, '--labels', join(dataDir, 'labels.json'), '--quiet'],
      {
        encoding: 'utf8',
      },
    );
    return (
      report
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('ops-dev'))
        .pop() ?? report.trim()
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(dataDir, 'score.mjs'))) {
    process.stderr.write(`eval: no ops-dev set at ${dataDir} (set OPSDEV_DIR)\n`);
    process.exitCode = 2;
    return;
  }
  const args = process.argv.slice(2);
  const optionsAt = args.indexOf('--options');
  const options = optionsAt >= 0 ? args[optionsAt + 1] : undefined;
  const named =
    optionsAt < 0 ? args : args.filter((_, index) => index !== optionsAt && index !== optionsAt + 1);
  const kinds = named.length > 0 ? named : detectorRegistry.kinds;
  for (const kind of kinds) {
    const started = performance.now();
    const line = await scoreKind(kind, options);
    process.stdout.write(
      `${kind.padEnd(16)} ${line}  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
    );
  }
}

await main();
