import { z } from 'zod';
import { ROLLBACK_ANNOTATION, type RunService } from '../platform/run-types.js';
import { defineRemediation, patternString, type RemediationPlan, resourceName } from './types.js';

export interface RollbackPlan extends RemediationPlan {
  readonly kind: 'rollback-service';
  readonly service: string;
  /** The revision that served before the bad change: all traffic goes back to it. */
  readonly revision: string;
  /** The commit that failed; set on the service as vigil's rollback marker. */
  readonly badCommit: string;
}

const revisionName = patternString(/^[a-z][a-z0-9-]{0,80}$/, 'a Cloud Run revision name');
const commitSha = patternString(/^[0-9a-f]{7,40}$/, 'a git commit sha');

/**
 * Routes a service's traffic back to the revision that served before a redeploy whose new
 * revision failed its health checks (vigil plans it itself from the redeploy's plan; a policy rule
 * may also name one). Idempotent: traffic already on the revision with the marker is satisfied.
 */
export const rollbackService = defineRemediation({
  kind: 'rollback-service',
  summary: 'Route a Cloud Run service back to the revision that served before a bad redeploy',
  risk: 'low',
  params: z.strictObject({ service: resourceName, revision: revisionName, bad_commit: commitSha }),
  target: (params) => params.service,
  plan(_finding, params): RollbackPlan {
    return rollbackPlan(params.service, params.revision, params.bad_commit);
  },
  async execute(plan, { cloudRun, signal, timeoutMs }) {
    const options = { signal, timeoutMs };
    const current = await cloudRun.getService(plan.service, options);
    if (rolledBack(current, plan)) {
      return {
        status: 'already-satisfied',
        detail: `${plan.service} already routes all traffic to ${plan.revision}`,
      };
    }
    await cloudRun.routeTraffic(
      plan.service,
      plan.revision,
      { [ROLLBACK_ANNOTATION]: plan.badCommit },
      options,
    );
    return {
      status: 'changed',
      detail: `${plan.service} routes all traffic to ${plan.revision} again (${plan.badCommit.slice(0, 8)} rolled back)`,
      ref: plan.revision,
    };
  },
  async verify(plan, { cloudRun, signal, timeoutMs }) {
    const current = await cloudRun.getService(plan.service, { signal, timeoutMs });
    return rolledBack(current, plan)
      ? { status: 'recovered', detail: `${plan.service} serves ${plan.revision}` }
      : { status: 'failed', detail: `${plan.service} does not route its traffic to ${plan.revision}` };
  },
});

export function rollbackPlan(service: string, revision: string, badCommit: string): RollbackPlan {
  return {
    kind: 'rollback-service',
    target: service,
    service,
    revision,
    badCommit,
    description: `roll ${service} back to ${revision} (${badCommit.slice(0, 8)} failed its health checks)`,
  };
}

function rolledBack(service: RunService, plan: RollbackPlan): boolean {
  const serving = service.traffic.filter((target) => target.percent > 0);
  return (
    serving.length === 1 &&
    serving[0]?.type === 'REVISION' &&
    serving[0].revision === plan.revision &&
    service.annotations[ROLLBACK_ANNOTATION] === plan.badCommit
  );
}
