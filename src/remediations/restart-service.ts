import { z } from 'zod';
import { pendingRollout } from './lib/rollout.js';
import { defineRemediation, type RemediationPlan, resourceName } from './types.js';

export interface RestartPlan extends RemediationPlan {
  readonly kind: 'restart-service';
  readonly service: string;
  /** Start of the finding's episode: a restart at or after it satisfies the plan (the same plan every tick). */
  readonly after: number;
}

/** The template annotation the platform adapter sets on a restart (see CloudRunAdapter.restartService). */
const RESTARTED_AT = 'vigil.dev/restarted-at';

/** Creates a new revision of the same image, which restarts every instance. */
export const restartService = defineRemediation({
  kind: 'restart-service',
  summary: 'Restart a Cloud Run service by rolling a new revision of the same image',
  risk: 'low',
  params: z.strictObject({ service: resourceName }),
  target: (params) => params.service,
  plan(finding, params): RestartPlan {
    return {
      kind: 'restart-service',
      target: params.service,
      service: params.service,
      after: finding.since,
      description: `restart ${params.service} (a new revision of the same image)`,
    };
  },
  async execute(plan, { cloudRun, signal, timeoutMs }) {
    const options = { signal, timeoutMs };
    const current = await cloudRun.getService(plan.service, options);
    const restartedAt = Date.parse(current.templateAnnotations[RESTARTED_AT] ?? '');
    if (restartedAt >= plan.after) {
      return {
        status: 'already-satisfied',
        detail: `${plan.service} was restarted at ${new Date(restartedAt).toISOString()}, since the episode began`,
      };
    }
    const updated = await cloudRun.restartService(plan.service, options);
    const revision = updated.latestReadyRevision ?? updated.latestCreatedRevision ?? 'unknown';
    return { status: 'changed', detail: `${plan.service} restarted as revision ${revision}`, ref: revision };
  },
  async verify(plan, { cloudRun, signal, timeoutMs }) {
    const service = await cloudRun.getService(plan.service, { signal, timeoutMs });
    const restartedAt = Date.parse(service.templateAnnotations[RESTARTED_AT] ?? '');
    if (!(restartedAt >= plan.after))
      return { status: 'failed', detail: `${plan.service} shows no restart since the episode began` };
    const rollout = pendingRollout(service);
    if (rollout) return rollout;
    return {
      status: 'recovered',
      detail: `${plan.service} serves the restarted revision ${service.latestReadyRevision}`,
    };
  },
});
