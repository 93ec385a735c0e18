import { servingRevision } from './run/model.js';
import type { World } from './world/world.js';

/** What the control API's GET /sandbox/state and `Sandbox.state()` report. */
export interface ServiceState {
  readonly name: string;
  readonly serving_revision: string | null;
  readonly latest_ready_revision: string | null;
  readonly revisions: number;
  readonly commit: string | null;
  readonly commits_behind_main: number | null;
  readonly contains_vegas_fix: boolean;
  readonly health: string;
  readonly paused_by: string | null;
  readonly traffic: readonly { type: string; revision?: string; percent: number }[];
}

export interface ExecutionState {
  readonly id: string;
  readonly state: string;
  readonly args: readonly string[];
  readonly result: Readonly<Record<string, number | string>> | null;
  readonly message: string | null;
}

export interface SandboxState {
  readonly scenario: string;
  readonly seed: number;
  readonly day: number;
  readonly date: string;
  readonly now: string;
  readonly project: string;
  readonly region: string;
  readonly git: {
    readonly url: string;
    readonly main: string;
    readonly vegas_fix: string | null;
    readonly commits: number;
  };
  readonly services: readonly ServiceState[];
  readonly jobs: readonly { readonly name: string; readonly executions: readonly ExecutionState[] }[];
}

export function describeWorld(world: World): SandboxState {
  const head = world.commits.head;
  const services = [...world.run.services.values()].map((service): ServiceState => {
    const serving = servingRevision(service);
    const commit = serving?.commit ? world.commits.resolve(serving.commit) : undefined;
    return {
      name: service.name,
      serving_revision: serving?.id ?? null,
      latest_ready_revision: service.latestReadyRevision ?? null,
      revisions: service.revisions.length,
      commit: commit?.sha ?? null,
      commits_behind_main: commit && head ? head.position - commit.position : null,
      contains_vegas_fix: commit ? world.containsFix(commit.sha) : false,
      health: world.health(service.name).mode,
      paused_by: service.annotations['vigil.dev/paused-by'] ?? null,
      traffic: service.traffic.map((target) => ({ ...target })),
    };
  });
  const jobs = [...world.run.jobs.values()].map((job) => ({
    name: job.name,
    executions: job.executions.map((execution) => ({
      id: execution.id,
      state: execution.state,
      args: [...execution.args],
      result: execution.result ?? null,
      message: execution.message ?? null,
    })),
  }));
  return {
    scenario: world.scenario.name,
    seed: world.seed,
    day: world.day,
    date: world.calendar.dateOf(world.day),
    now: new Date(world.clock.now()).toISOString(),
    project: world.scenario.project,
    region: world.scenario.region,
    git: {
      url: world.repo.url,
      main: head?.sha ?? '',
      vegas_fix: world.fixCommit()?.sha ?? null,
      commits: world.commits.size,
    },
    services,
    jobs,
  };
}
