import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
const pipeline = await import('./bench/pipeline.js');
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
await pipeline.run();
const { profile } = await session.post('HeapProfiler.stopSampling');
writeFileSync('/tmp/heap.json', JSON.stringify(profile));
