/**
 * `npm run bench`: runs every bench module in order. To add one, export `run(): Promise<void>`
 * from bench/<name>.ts and list it here. Benchmarks print figures; they never fail on time.
 */
import * as backtest from './backtest.js';
import * as detectors from './detectors.js';

const modules: { name: string; run: () => Promise<void> }[] = [
  { name: 'detectors', run: detectors.run },
  { name: 'backtest', run: backtest.run },
];

const only = process.argv.slice(2);
for (const module of modules) {
  if (only.length > 0 && !only.includes(module.name)) continue;
  await module.run();
}
