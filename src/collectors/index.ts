import { createRegistry } from '../core/plugin.js';
import { bigquerySql } from './bigquery-sql.js';
import { cloudRunDrift } from './cloud-run-drift.js';
import { httpProbe } from './http-probe.js';
import type { CollectorDefinition } from './types.js';

/** Every collector kind, explicitly. A test asserts this list equals the folder's kind files. */
export const collectorRegistry = createRegistry<CollectorDefinition<unknown>>('collector', [
  bigquerySql,
  cloudRunDrift,
  httpProbe,
]);
