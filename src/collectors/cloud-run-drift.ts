import { z } from 'zod';
import { errorMessage } from '../core/errors.js';
import type { Sample } from '../core/types.js';
import type { GitMirror } from '../platform/git.js';
import type { CloudRunAdapter, RunService } from '../platform/index.js';
import { ROLLBACK_ANNOTATION } from '../platform/run-types.js';
import type {
  CollectContext,
  CollectorDefinition,
  CollectProblem,
  CollectResult,
  SeriesStatus,
} from './types.js';

const SERVICE = /^[a-z][a-z0-9-]{0,62}$/;
const COMMIT = /^[0-9a-f]{7,40}$/;

const options = z.strictObject({
  /** Git URL of the platform repository (credentials, if any, only inside the URL or env). */
  repository: z.string().min(1),
  branch: z
    .string()
    .regex(/^[A-Za-z0-9._/-]+$/)
    .default('main'),
  services: z.array(z.string().regex(SERVICE, 'expected a Cloud Run service name')).min(1),
  /** Revision label holding the deployed commit; the image tag is the fallback. */
  commit_label: z.string().default('commit-sha'),
  /** Commits every deployment must contain, e.g. the seed's Vegas line fix. */
  required_commits: z
    .array(
      z.strictObject({ name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/), commit: z.string().regex(COMMIT) }),
    )
    .default([]),
});

export type CloudRunDriftOptions = z.output<typeof options>;

/**
 * Compares what each Cloud Run service serves with git `main` in a local mirror. Emits
 * `deploy_commits_behind{service}` and `deploy_contains_commit{service,commit}`. Traffic pinned
 * by a human to an older revision is reported as `pinned`, not drift; a deployed commit the
 * repository does not know is an `error` state with the reason.
 */
export const cloudRunDrift: CollectorDefinition<CloudRunDriftOptions> = {
  kind: 'cloud-run-drift',
  summary: 'Cloud Run serving commit vs git main: commits behind, required commits present, pinned traffic',
  options,
  create(settings, deps) {
    return {
      metrics: ['deploy_commits_behind', 'deploy_contains_commit'],
      async collect(ctx) {
        const mirror = deps.git.mirror(settings.repository);
        await mirror.sync(ctx.signal);
        const main = await mirror.resolve(settings.branch, ctx.signal);
        if (!main) throw new Error(`branch ${settings.branch} not found in the repository`);
        const run = deps.platform.cloudRun();
        const results = await Promise.all(
          settings.services.map((service) => driftOf(service, { settings, mirror, main, run, ctx })),
        );
        return {
          samples: results.flatMap((r) => r.samples),
          problems: results.flatMap((r) => r.problems),
          statuses: results.flatMap((r) => r.statuses),
        };
      },
    };
  },
};

interface DriftContext {
  readonly settings: CloudRunDriftOptions;
  readonly mirror: GitMirror;
  readonly main: string;
  readonly run: CloudRunAdapter;
  readonly ctx: CollectContext;
}

async function driftOf(service: string, drift: DriftContext): Promise<CollectResult> {
  const { ctx } = drift;
  const labels = { service };
  const fail = (
    status: SeriesStatus['status'],
    kind: CollectProblem['kind'],
    reason: string,
  ): CollectResult => ({
    samples: [],
    problems: status === 'pinned' ? [] : [{ kind, target: service, message: reason }],
    statuses: [{ metric: 'deploy_commits_behind', labels, status, reason }],
  });
  let state: RunService;
  let deployed: string | undefined;
  let serving: string | undefined;
  let rolledBackFrom: string | undefined;
  try {
    state = await drift.run.getService(service, { signal: ctx.signal });
    const pinned = pinnedRevision(state);
    // vigil's own rollback pins traffic too, but the service still runs old code: that stays drift.
    rolledBackFrom = state.annotations[ROLLBACK_ANNOTATION];
    if (pinned && !rolledBackFrom)
      return fail('pinned', 'target-failed', `${service}: traffic pinned to ${pinned} by a human; not drift`);
    serving = pinned ?? state.latestReadyRevision;
    if (!serving) return fail('error', 'target-failed', `${service}: no ready revision`);
    const revision = await drift.run.getRevision(service, serving, { signal: ctx.signal });
    deployed = revision.labels[drift.settings.commit_label] ?? imageTag(revision.image);
  } catch (error) {
    return fail('error', 'target-failed', `${service}: ${errorMessage(error)}`);
  }
  if (!deployed || !COMMIT.test(deployed)) {
    return fail(
      'error',
      'unknown-commit',
      `${service}: no commit in label ${drift.settings.commit_label} or image tag`,
    );
  }
  const full = await drift.mirror.resolve(deployed, ctx.signal);
  if (!full) {
    return fail(
      'error',
      'unknown-commit',
      `${service}: deployed commit ${deployed} is not in the repository`,
    );
  }
  const context = {
    ...(serving ? { serving_revision: serving } : {}),
    ...(rolledBackFrom ? { pinned_by: `vigil rollback of ${rolledBackFrom}` } : {}),
  };
  const samples = await driftSamples(service, full, drift, context);
  if (!rolledBackFrom) return { samples, problems: [], statuses: [] };
  const reason = `${service}: pinned by vigil rollback of ${rolledBackFrom.slice(0, 8)}; still drift`;
  return {
    samples,
    problems: [],
    statuses: [{ metric: 'deploy_commits_behind', labels, status: 'pinned', reason }],
  };
}

async function driftSamples(
  service: string,
  deployed: string,
  drift: DriftContext,
  context: Readonly<Record<string, string>>,
): Promise<Sample[]> {
  const { ctx, mirror, main } = drift;
  const timestamp = ctx.clock.now();
  const annotations = { deployed_commit: deployed, main_commit: main, ...context };
  const behind = await mirror.countBetween(deployed, main, ctx.signal);
  const samples: Sample[] = [
    { metric: 'deploy_commits_behind', labels: { service }, timestamp, value: behind, annotations },
  ];
  for (const required of drift.settings.required_commits) {
    const commit = await mirror.resolve(required.commit, ctx.signal);
    const contains = commit ? await mirror.isAncestor(commit, deployed, ctx.signal) : false;
    samples.push({
      metric: 'deploy_contains_commit',
      labels: { service, commit: required.name },
      timestamp,
      value: contains ? 1 : 0,
      annotations,
    });
  }
  return samples;
}

/** The revision a human pinned traffic to, when traffic does not follow the latest revision. */
function pinnedRevision(state: RunService): string | undefined {
  const serving = state.traffic.filter((t) => t.percent > 0);
  if (serving.length === 0 || serving.some((t) => t.type === 'LATEST')) return undefined;
  const pinned = serving.find((t) => t.revision && t.revision !== state.latestReadyRevision);
  return pinned?.revision ?? undefined;
}

function imageTag(image: string): string | undefined {
  const at = image.lastIndexOf(':');
  const slash = image.lastIndexOf('/');
  return at > slash ? image.slice(at + 1) : undefined;
}
