import { z } from 'zod';
import { defineRemediation, resourceName } from './types.js';

/** Creates a new revision of the same image, which restarts every instance. */
export const restartService = defineRemediation({
  kind: 'restart-service',
  summary: 'Restart a Cloud Run service by rolling a new revision of the same image',
  risk: 'low',
  params: z.strictObject({ service: resourceName }),
  target: (params) => params.service,
});
