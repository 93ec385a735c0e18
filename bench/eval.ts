/**
 * `npm run eval`: how well each detector kind, with default options, does on data nobody tuned
 * it for. Runs every kind over the dev sets (../shared/data/ops-dev, ../shared/data/ops-dev2)
 * through the real `vigil backtest` code path and scores the outputs with each set's own
 * score.mjs: the standard profile, the low-false-positive profile (false positives cost twice),
 * and, on ops-dev, a leave-one-category-out (LOCO) score: for each category, the option set of
 * the kind's small grid that scores best on all the other categories is scored on the held-out
 * one, and the held-out scores are averaged. A default that only fits one category shows there.
 *
 *   npm run eval                         # every kind, both sets, LOCO
 *   npm run eval -- auto zscore          # some kinds
 *   npm run eval -- --no-loco auto       # skip LOCO (one run per kind and set)
 *
 * OPSDEV_DIR / OPSDEV2_DIR override the data locations.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { runBacktest } from '../src/commands/backtest.js';
import { DEFAULT_DETECTOR, detectorRegistry } from '../src/detectors/index.js';

const run = promisify(execFile);
const shared = join(import.meta.dirname, '..', '..', 'shared', 'data');
const SETS = [
  { name: 'ops-dev', dir: resolve(process.env.OPSDEV_DIR ?? join(shared, 'ops-dev')) },
  { name: 'ops-dev2', dir: resolve(process.env.OPSDEV2_DIR ?? join(shared, 'ops-dev2')) },
];
/** score.mjs weights of the low-false-positive profile (NAB's: a false positive costs 0.22). */
const LOW_FP = '1,-0.22,-1';

/**
 * The option sets LOCO may choose from, per kind; the first is the kind's defaults. Small on
 * purpose: each entry is one full replay of ops-dev.
 */
const GRIDS: Record<string, readonly Record<string, unknown>[]> = {
  auto: [{}, { threshold: 3 }, { threshold: 3.6 }, { window: '3d' }, { min_autocorrelation: 0.3 }],
  zscore: [{}, { window: 100 }, { window: 500 }],
  'robust-zscore': [{}, { window: 100 }, { window: 500 }],
  'seasonal-zscore': [{}, { seasons: 14 }, { tolerance: '30m' }],
  ewma: [{}, { lambda: 0.1 }, { window: 500 }],
  threshold: [{}],
};

interface Score {
  readonly score: number;
  readonly f1: number;
  readonly threshold: string;
}

async function backtestSet(dir: string, kind: string, options: Record<string, unknown>, out: string) {
  const files = readdirSync(join(dir, 'series')).filter((file) => file.endsWith('.csv'));
  for (const file of files) {
    let errors = '';
    const stderr = new PassThrough().on('data', (data: Buffer) => {
      errors += data.toString();
    });
    const code = await runBacktest(
      {
        detector: kind,
        options: JSON.stringify(options),
        input: join(dir, 'series', file),
        output: join(out, file),
      },
      { stdout: new PassThrough(), stderr },
    );
    if (code !== 0) throw new Error(`backtest ${kind} failed on ${file}: ${errors}`);
  }
}

/** Scores OUT with the set's own scorer, on the series `labels` names (all when undefined). */
async function score(
  dir: string,
  out: string,
  weights?: string,
  labels?: Record<string, unknown>,
): Promise<Score> {
  let labelsFile = join(dir, 'labels.json');
  if (labels) {
    labelsFile = join(out, `labels-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(labelsFile, JSON.stringify(labels));
  }
  const args = [
    join(dir, 'score.mjs'),
    out,
    '--labels',
    labelsFile,
    '--quiet',
    ...(weights ? ['--weights', weights] : []),
  ];
  const { stdout } = await run('node', args, { maxBuffer: 1 << 24 });
  const line = stdout.trim().split('\n').pop() ?? '';
  const match = /score=(-?[\d.]+) f1=([\d.]+) threshold=(\S+)/.exec(line);
  if (!match) throw new Error(`unexpected score.mjs output: ${stdout}`);
  return { score: Number(match[1]), f1: Number(match[2]), threshold: match[3] as string };
}

function categories(dir: string): Map<string, string[]> {
  const byCategory = new Map<string, string[]>();
  for (const line of readFileSync(join(dir, 'manifest.csv'), 'utf8').trim().split('\n').slice(1)) {
    const [file, category] = line.split(',') as [string, string];
    byCategory.set(category, [...(byCategory.get(category) ?? []), file]);
  }
  return byCategory;
}

/** Outputs of one kind with one option set on one set, kept until `dispose`. */
async function replay(dir: string, kind: string, options: Record<string, unknown>) {
  const out = mkdtempSync(join(tmpdir(), `vigil-eval-${kind}-`));
  await backtestSet(dir, kind, options, out);
  return { out, dispose: () => rmSync(out, { recursive: true, force: true }) };
}

/**
 * LOCO on one set: per category, pick the grid entry that scores best on the other categories,
 * score it on the held-out category. Categories without a scored window (no labels) are skipped.
 */
async function loco(dir: string, kind: string): Promise<{ score: number; picks: string[] }> {
  const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as Record<string, unknown[]>;
  const grid = GRIDS[kind] ?? [{}];
  const runs = [];
  for (const options of grid) runs.push(await replay(dir, kind, options));
  try {
    const held: number[] = [];
    const picks: string[] = [];
    for (const [category, files] of categories(dir)) {
      if (files.every((file) => (labels[file] ?? []).length === 0)) continue;
      const inside = Object.fromEntries(files.map((file) => [file, labels[file] ?? []]));
      const outside = Object.fromEntries(Object.entries(labels).filter(([file]) => !files.includes(file)));
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let g = 0; g < runs.length; g++) {
        const { score: s } = await score(dir, (runs[g] as { out: string }).out, undefined, outside);
        if (s > bestScore + 1e-9) {
          bestScore = s;
          best = g;
        }
      }
      held.push((await score(dir, (runs[best] as { out: string }).out, undefined, inside)).score);
      picks.push(`${category}:${best}`);
    }
    return { score: held.reduce((a, b) => a + b, 0) / held.length, picks };
  } finally {
    for (const r of runs) r.dispose();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const withLoco = !args.includes('--no-loco');
  const named = args.filter((arg) => !arg.startsWith('--'));
  const kinds = named.length > 0 ? named : detectorRegistry.kinds;
  const sets = SETS.filter((set) => existsSync(join(set.dir, 'score.mjs')));
  if (sets.length === 0) {
    process.stderr.write('eval: no dev set found (set OPSDEV_DIR / OPSDEV2_DIR)\n');
    process.exitCode = 2;
    return;
  }
  const header = [
    'kind',
    ...sets.flatMap((set) => [set.name, `${set.name} low-FP`]),
    ...(withLoco ? ['ops-dev LOCO'] : []),
    'time',
  ];
  const rows: string[][] = [];
  process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
  for (const kind of kinds) {
    const started = performance.now();
    const cells = [kind === DEFAULT_DETECTOR ? `${kind} (default)` : kind];
    for (const set of sets) {
      const { out, dispose } = await replay(set.dir, kind, {});
      try {
        const standard = await score(set.dir, out);
        const lowFp = await score(set.dir, out, LOW_FP);
        cells.push(`${standard.score.toFixed(1)} (f1 ${standard.f1.toFixed(2)})`, lowFp.score.toFixed(1));
      } finally {
        dispose();
      }
    }
    if (withLoco) {
      const dev = sets.find((set) => set.name === 'ops-dev');
      cells.push(dev ? (await loco(dev.dir, kind)).score.toFixed(1) : '-');
    }
    cells.push(`${((performance.now() - started) / 1000).toFixed(0)} s`);
    rows.push(cells);
    process.stdout.write(`| ${cells.join(' | ')} |\n`);
  }
}

await main();
