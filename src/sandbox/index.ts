import type { Clock } from '../core/clock.js';
import { bigQueryRoutes } from './bigquery/routes.js';
import { type Controller, controlRoutes } from './control.js';
import { FaultInjector } from './faults.js';
import { type LoggedRequest, RequestLog } from './request-log.js';
import { runRoutes } from './run/routes.js';
import { loadScenarioFile, SEED_SCENARIO_PATH } from './scenario/load.js';
import type { Scenario } from './scenario/schema.js';
import { type EmulatorServer, startEmulatorServer } from './server.js';
import { describeWorld, type SandboxState } from './state.js';
import { World } from './world/world.js';

export type { FaultSpec } from './faults.js';
export type { LoggedRequest } from './request-log.js';
export { loadScenarioFile, parseScenario, SEED_SCENARIO_PATH } from './scenario/load.js';
export type { Scenario } from './scenario/schema.js';
export type { SandboxState, ServiceState } from './state.js';

export interface SandboxOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** A parsed scenario or a scenario file path; default: the seed incident. */
  readonly scenario?: Scenario | string;
  /** Overrides the scenario's seed. */
  readonly seed?: number;
  /** Day number or YYYY-MM-DD to generate history up to; default: the scenario's `default_at`. */
  readonly at?: number | string;
  /** Wall-clock delay before Cloud Run operations complete (default 50 ms). */
  readonly operationDelayMs?: number;
}

/** A running sandbox. Only `advanceDays`, `advanceTo` and `reset` (or the control API) move its clock. */
export interface Sandbox {
  /** Base URL of every emulated API, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  /** `file://` URL of the simulated platform repository (bare; clone or mirror it). */
  readonly gitUrl: string;
  readonly project: string;
  readonly region: string;
  /** Health probes answer at `${healthBaseUrl}/SERVICE/healthz`. */
  readonly healthBaseUrl: string;
  /** The environment a vigil config needs to target this sandbox (VIGIL_GCP_ENDPOINT, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** The simulated clock (follows advances and resets), for an in-process vigil. */
  readonly clock: Clock;
  readonly scenario: Scenario;
  readonly faults: FaultInjector;
  day(): number;
  date(): string;
  advanceDays(days: number): Promise<SandboxState>;
  advanceTo(dayOrDate: number | string): Promise<SandboxState>;
  state(): SandboxState;
  /**
   * Makes main's HEAD broken: every revision deployed at it fails its health checks (the
   * `bad-commit` demo). Returns the commit. Lasts until `reset`.
   */
  breakMain(): string;
  /** Rebuilds the world at the start day (same repository URL, same seed). */
  reset(): Promise<SandboxState>;
  requests(after?: number): readonly LoggedRequest[];
  /** Requests that arrived and are not answered yet (by route), e.g. a call held by a latency fault. */
  inFlight(): readonly { route: string; receivedAt: number }[];
  close(): Promise<void>;
}

const DEFAULT_OPERATION_DELAY_MS = 50;

/**
 * Starts the emulator in-process: builds the world up to the start day, then listens. Resolves
 * when the server accepts requests; `close()` stops the server, the world and removes the repo.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const scenario =
    typeof options.scenario === 'object'
      ? options.scenario
      : loadScenarioFile(options.scenario ?? SEED_SCENARIO_PATH);
  const seed = options.seed ?? scenario.seed;
  const operationDelayMs = options.operationDelayMs ?? DEFAULT_OPERATION_DELAY_MS;
  let world = await World.create({ scenario, seed, operationDelayMs });
  const startDay = world.calendar.resolve(options.at ?? scenario.default_at);
  try {
    await world.advanceTo(startDay);
  } catch (error) {
    await world.close();
    throw error;
  }
  const faults = new FaultInjector(seed);
  const log = new RequestLog();
  const controller: Controller = {
    faults,
    log,
    state: () => describeWorld(world),
    advanceDays: async (days) => {
      await world.advanceTo(world.day + days);
      return describeWorld(world);
    },
    advanceTo: async (dayOrDate) => {
      await world.advanceTo(world.calendar.resolve(dayOrDate));
      return describeWorld(world);
    },
    reset: async () => {
      const previous = world;
      await previous.close(false);
      const next = await World.create({ scenario, seed, operationDelayMs, repo: previous.repo });
      await next.advanceTo(startDay);
      world = next;
      return describeWorld(world);
    },
    health: (service) => world.health(service),
  };
  let server: EmulatorServer;
  try {
    server = await startEmulatorServer({
      port: options.port ?? 0,
      faults,
      log,
      routes: [
        ...bigQueryRoutes({
          project: scenario.project,
          connection: () => world.queries,
          now: () => world.clock.now(),
        }),
        ...runRoutes(() => world.run, scenario.project, scenario.region),
        ...controlRoutes(controller),
      ],
    });
  } catch (error) {
    await world.close();
    throw error;
  }
  const url = `http://127.0.0.1:${server.port}`;
  const healthBaseUrl = `${url}/sandbox/services`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port: server.port,
    gitUrl: world.repo.url,
    project: scenario.project,
    region: scenario.region,
    healthBaseUrl,
    env: {
      VIGIL_GCP_ENDPOINT: url,
      VIGIL_GCP_PROJECT: scenario.project,
      VIGIL_GCP_REGION: scenario.region,
      VIGIL_GIT_URL: world.repo.url,
      VIGIL_HEALTH_BASE_URL: healthBaseUrl,
      // vigil binds @start_date/@end_date from its own clock: pin it to the simulated day.
      VIGIL_NOW: new Date(world.clock.now()).toISOString(),
      // The commit every deployment must contain (the seed's Vegas line fix), for the drift collector.
      ...fixCommitEnv(world),
      // Sandbox operations finish in milliseconds: verify remediations after seconds, not minutes.
      VIGIL_VERIFY_AFTER: '10s',
    },
    clock: { now: () => world.clock.now() },
    scenario,
    faults,
    day: () => world.day,
    date: () => world.calendar.dateOf(world.day),
    advanceDays: controller.advanceDays,
    advanceTo: controller.advanceTo,
    breakMain: () => {
      const main = describeWorld(world).git.main;
      world.run.brokenCommits.add(main);
      return main;
    },
    state: controller.state,
    reset: controller.reset,
    requests: (after = 0) => log.since(after),
    inFlight: () => log.inFlight(),
    close: () => {
      // Idempotent: a second close waits for the first.
      closing ??= server.close().then(() => world.close());
      return closing;
    },
  };
}

function fixCommitEnv(world: World): Record<string, string> {
  const fix = world.fixCommit();
  return fix ? { VIGIL_VEGAS_FIX_COMMIT: fix.sha } : {};
}
