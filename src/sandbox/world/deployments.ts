import type { Clock } from '../../core/clock.js';
import type { TemplateRecord } from '../run/model.js';
import { type RunPlatform, servingRevision } from '../run/platform.js';
import type { Scenario, ScenarioEvent } from '../scenario/schema.js';
import type { CommitIndex } from './history.js';

/** What scenario deploys and events act on. */
export interface DeployContext {
  readonly scenario: Scenario;
  readonly run: RunPlatform;
  readonly commits: CommitIndex;
  readonly clock: Clock;
}

/** Image tagged with the short SHA; the full SHA in the `commit-sha` label (as the seed deploy script does). */
export function serviceTemplate(scenario: Scenario, name: string, sha: string, by: string): TemplateRecord {
  const { project, region } = scenario;
  return {
    labels: { 'commit-sha': sha, 'managed-by': 'cloud-build' },
    annotations: { 'vigil.dev/deployed-by': by },
    containers: [
      {
        name,
        image: `${region}-docker.pkg.dev/${project}/nba-props/${name}:${sha.slice(0, 8)}`,
        args: [],
        env: [{ name: 'GIT_COMMIT', value: sha }],
      },
    ],
    serviceAccount: `${name}@${project}.iam.gserviceaccount.com`,
    timeout: '300s',
  };
}

/** A deploy outside the API (Cloud Build, a human with gcloud): the revision serves at once. */
export function deploy(context: DeployContext, service: string, sha: string, by: string): void {
  const record = context.run.getService(service);
  record.labels = { ...record.labels, 'commit-sha': sha };
  record.generation += 1;
  record.updateTimeMs = context.clock.now();
  context.run.deployNow(record, serviceTemplate(context.scenario, service, sha, by), by);
}

export function applyEvent(context: DeployContext, event: ScenarioEvent): void {
  if ('deploy' in event) {
    const ref = event.deploy.commit;
    const head = context.commits.headAt(event.day);
    const target = 'main' in ref ? head : context.commits.at((head?.position ?? 0) - ref.behind_main);
    if (!target) throw new RangeError(`day ${event.day}: main has no commit ${JSON.stringify(ref)}`);
    deploy(context, event.deploy.service, target.sha, event.deploy.by);
  } else if ('wedge' in event) {
    const serving = servingRevision(context.run.getService(event.wedge.service));
    if (serving) serving.health = event.wedge.mode;
  } else {
    pause(context, event.pause);
  }
}

/** A human pins traffic to the serving revision and says so in labels and annotations. */
function pause(context: DeployContext, event: { service: string; by: string; reason: string }): void {
  const service = context.run.getService(event.service);
  const serving = servingRevision(service);
  if (!serving) return;
  service.traffic = [{ type: 'REVISION', revision: serving.id, percent: 100 }];
  service.labels = { ...service.labels, 'vigil-paused': 'true' };
  service.annotations = {
    ...service.annotations,
    'vigil.dev/paused-by': event.by,
    'vigil.dev/paused-reason': event.reason,
    'vigil.dev/paused-at': new Date(context.clock.now()).toISOString(),
  };
}
