/**
 * `npm run bench`: runs every benchmark module in turn and prints its figures.
 * Benchmarks print numbers and ratios; they never fail a build on wall-clock time.
 */
const modules: readonly { name: string; run: () => Promise<void> }[] = [];

if (modules.length === 0) console.log('no benchmarks registered yet');
for (const module of modules) {
  console.log(`\n== ${module.name} ==`);
  await module.run();
}
