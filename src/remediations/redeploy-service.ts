import { z } from 'zod';
import { defineRemediation, region, resourceName } from './types.js';

/** Rolls a Cloud Run service forward to the commit on main (the seed incident's fix). */
export const redeployService = defineRemediation({
  kind: 'redeploy-service',
  summary: 'Redeploy a Cloud Run service from the current main commit',
  risk: 'low',
  params: z.strictObject({ service: resourceName, region: region.optional() }),
  target: (params) => params.service,
});
