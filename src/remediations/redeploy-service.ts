import { z } from 'zod';
import { pendingRollout } from './lib/rollout.js';
import { defineRemediation, planImpossible, type RemediationPlan, region, resourceName } from './types.js';

export interface RedeployPlan extends RemediationPlan {
  readonly kind: 'redeploy-service';
  readonly service: string;
  /** The full main commit to serve; images are tagged with its first 8 characters. */
  readonly commit: string;
  /** The revision serving when the finding was made (`serving_revision`): where a rollback goes. */
  readonly previousRevision?: string;
}

/**
 * Rolls a Cloud Run service forward to the commit on main (the seed incident's fix): the same
 * image repository with the commit's tag, and the `commit-sha` label the drift collector reads.
 * The commit comes from the finding (`main_commit`, annotated by cloud-run-drift), so the plan
 * says exactly which code will run before anything happens.
 */
export const redeployService = defineRemediation({
  kind: 'redeploy-service',
  summary: 'Redeploy a Cloud Run service from the current main commit',
  risk: 'low',
  params: z.strictObject({ service: resourceName, region: region.optional() }),
  target: (params) => params.service,
  plan(finding, params): RedeployPlan {
    const commit = finding.labels.main_commit;
    if (!commit || !/^[0-9a-f]{8,40}$/.test(commit)) {
      throw planImpossible(
        `redeploy-service needs the main commit, and finding ${finding.id} (${finding.series}) has no main_commit label (cloud-run-drift findings carry one)`,
      );
    }
    return {
      kind: 'redeploy-service',
      target: params.service,
      service: params.service,
      commit,
      ...(finding.labels.serving_revision ? { previousRevision: finding.labels.serving_revision } : {}),
      description: `redeploy ${params.service} at main ${commit.slice(0, 8)}`,
    };
  },
  async execute(plan, { cloudRun, signal, timeoutMs }) {
    const options = { signal, timeoutMs };
    const current = await cloudRun.getService(plan.service, options);
    // The template already names the commit: deployed, or rolling out from an earlier attempt that
    // was cut short (a crash after the update was sent). Updating again would only add a revision;
    // verify() tells whether the rollout finished.
    if (current.commitSha === plan.commit) {
      const rolling = current.latestReadyRevision !== current.latestCreatedRevision;
      return {
        status: 'already-satisfied',
        detail: rolling
          ? `${plan.service} is already rolling out ${plan.commit.slice(0, 8)} (revision ${current.latestCreatedRevision})`
          : `${plan.service} already serves ${plan.commit.slice(0, 8)} (revision ${current.latestReadyRevision})`,
      };
    }
    const image = withTag(current.image, plan.commit.slice(0, 8));
    const updated = await cloudRun.updateServiceImage(
      plan.service,
      image,
      { 'commit-sha': plan.commit },
      options,
    );
    const revision = updated.latestReadyRevision ?? updated.latestCreatedRevision ?? 'unknown';
    if (!updated.updated) {
      // Between this read and the update, someone (another worker that took over a stalled job)
      // deployed exactly this: nothing was changed here.
      return {
        status: 'already-satisfied',
        detail: `${plan.service} was meanwhile deployed at ${image} (revision ${revision})`,
      };
    }
    return {
      status: 'changed',
      detail: `${plan.service} now runs ${image} (revision ${revision})`,
      ref: revision,
    };
  },
  async verify(plan, { cloudRun, signal, timeoutMs }) {
    const service = await cloudRun.getService(plan.service, { signal, timeoutMs });
    const wanted = plan.commit.slice(0, 8);
    if (service.commitSha !== plan.commit) {
      return {
        status: 'failed',
        detail: `${plan.service} is at ${service.commitSha?.slice(0, 8) ?? 'an unknown commit'}, not ${wanted}`,
      };
    }
    const rollout = pendingRollout(service);
    if (rollout) return rollout;
    return {
      status: 'recovered',
      detail: `${plan.service} serves ${wanted} (revision ${service.latestReadyRevision})`,
    };
  },
});

/** `repo/name:old` → `repo/name:tag`. An image pinned by digest cannot be retagged safely. */
function withTag(image: string, tag: string): string {
  if (image.includes('@')) {
    throw planImpossible(`cannot redeploy ${image}: it is pinned by digest, not by a commit tag`);
  }
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const repository = colon > slash ? image.slice(0, colon) : image;
  return `${repository}:${tag}`;
}
