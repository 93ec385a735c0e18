/**
 * `npm run bench`: runs every benchmark module in turn and prints its figures.
 * Benchmarks print numbers and ratios; they never fail a build on wall-clock time.
 * To add one, export `run(): Promise<void>` from bench/<name>.ts and list it here;
 * `npm run bench -- detectors` runs only the named modules; `--json` prints one JSON line per figure.
 */
import * as audit from './audit.js';
import * as backtest from './backtest.js';
import * as daemon from './daemon.js';
import * as detectors from './detectors.js';
import * as pipeline from './pipeline.js';
import * as queue from './queue.js';
import { say } from './report.js';

const modules: readonly { name: string; run: () => Promise<void> }[] = [
  { name: 'detectors', run: detectors.run },
  { name: 'backtest', run: backtest.run },
  { name: 'pipeline', run: pipeline.run },
  { name: 'audit', run: audit.run },
  { name: 'queue', run: queue.run },
  { name: 'daemon', run: daemon.run },
];

// `--json`: one JSON line per figure instead of the human lines (bench/report.ts).
const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
for (const module of modules) {
  if (only.length > 0 && !only.includes(module.name)) continue;
  say(`\n== ${module.name} ==`);
  await module.run();
}
