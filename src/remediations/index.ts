import { createRegistry } from '../core/plugin.js';
import { redeployService } from './redeploy-service.js';
import { restartService } from './restart-service.js';
import { rollbackService } from './rollback-service.js';
import { runJob } from './run-job.js';
import type { RemediationDefinition } from './types.js';

/** Every remediation kind vigil knows, listed explicitly (no import side effects). */
export const remediationRegistry = createRegistry<RemediationDefinition>('remediation', [
  redeployService,
  restartService,
  rollbackService,
  runJob,
]);
