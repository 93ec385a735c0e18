import fc from 'fast-check';
import { TARGETS } from './parsers.js';

/**
 * `npm run fuzz [-- RUNS [SEED]]`: every parser target with RUNS cases (default 10,000). Prints
 * cases and time per target; exits 1 with the shrunk counterexample and its seed on a failure.
 */
const runs = Number(process.argv[2] ?? 10_000);
const seed = process.argv[3] === undefined ? Date.now() % 2 ** 31 : Number(process.argv[3]);
let failed = false;
for (const [name, property] of Object.entries(TARGETS)) {
  const started = performance.now();
  const details = await fc.check(property as fc.IAsyncProperty<unknown[]>, { numRuns: runs, seed });
  const seconds = ((performance.now() - started) / 1_000).toFixed(1);
  if (details.failed) {
    failed = true;
    console.log(`${name}: FAILED after ${details.numRuns} cases (seed ${seed}, ${seconds} s)`);
    console.log(fc.defaultReportMessage(details));
  } else console.log(`${name}: ${details.numRuns} cases ok (seed ${seed}, ${seconds} s)`);
}
process.exitCode = failed ? 1 : 0;
