import {
  type ExecutionsClient,
  type JobsClient,
  protos,
  type RevisionsClient,
  type ServicesClient,
} from '@google-cloud/run';
import type { Clock } from '../core/clock.js';
import { PermanentError } from '../core/errors.js';
import { bounded } from './errors.js';
import type { GcpCallSite } from './explain.js';
import {
  type RunExecution,
  type RunJob,
  type RunOperation,
  type RunRevision,
  type RunService,
  toRunExecution,
  toRunJob,
  toRunRevision,
  toRunService,
} from './run-types.js';

export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** Cloud Run Admin v2, reduced to what vigil's collectors and remediations need. */
export interface CloudRunAdapter {
  getService(service: string, options?: CallOptions): Promise<RunService>;
  listServices(options?: CallOptions): Promise<RunService[]>;
  /** Newest first. */
  listRevisions(service: string, options?: CallOptions): Promise<RunRevision[]>;
  getRevision(service: string, revision: string, options?: CallOptions): Promise<RunRevision>;
  /**
   * Redeploy: sets the first container's image and merges `labels` into the service and template
   * labels, waits for the operation, and returns the service as it then is. A template change
   * creates a new revision; a service already at that image and those labels is returned unchanged.
   */
  updateServiceImage(
    service: string,
    image: string,
    labels: Readonly<Record<string, string>>,
    options?: CallOptions,
  ): Promise<RunService & { readonly updated: boolean }>;
  /** Restart: a new revision of the same template (an annotation with the restart time changes). */
  restartService(service: string, options?: CallOptions): Promise<RunService>;
  /**
   * Routes 100% of the service's traffic to `revision` (a rollback) and sets the service
   * annotations given (vigil's rollback marker); the template and its revisions stay as they are.
   */
  routeTraffic(
    service: string,
    revision: string,
    annotations: Readonly<Record<string, string>>,
    options?: CallOptions,
  ): Promise<RunService>;
  getJob(job: string, options?: CallOptions): Promise<RunJob>;
  /**
   * Runs a job with the first container's args replaced. With `wait` (default false) it resolves
   * when the execution finished; otherwise as soon as the execution exists (poll getExecution).
   */
  runJob(
    job: string,
    args: readonly string[],
    options?: CallOptions & { readonly wait?: boolean },
  ): Promise<RunExecution>;
  getExecution(job: string, execution: string, options?: CallOptions): Promise<RunExecution>;
  getOperation(name: string, options?: CallOptions): Promise<RunOperation>;
}

export interface RunClients {
  readonly services: ServicesClient;
  readonly revisions: RevisionsClient;
  readonly jobs: JobsClient;
  readonly executions: ExecutionsClient;
}

/** The google-gax call options vigil sets (gax is not a direct dependency, so its type is restated). */
interface GaxCallOptions {
  readonly timeout: number;
  readonly maxRetries: number;
  readonly longrunning: {
    readonly initialRetryDelayMillis: number;
    readonly retryDelayMultiplier: number;
    readonly maxRetryDelayMillis: number;
    readonly totalTimeoutMillis: number;
  };
}

export function createCloudRunAdapter(
  clients: RunClients,
  settings: {
    readonly project: string;
    readonly region: string;
    readonly timeoutMs: number;
    readonly clock: Clock;
    /** Names the host and project in errors; the role is chosen per call. */
    readonly site?: Omit<GcpCallSite, 'role'>;
  },
): CloudRunAdapter {
  const parent = `projects/${settings.project}/locations/${settings.region}`;
  const serviceName = (service: string) => `${parent}/services/${service}`;
  const jobName = (job: string) => `${parent}/jobs/${job}`;
  // No retries inside the client (vigil retries, by error class), a per-attempt timeout, and
  // operation polling that starts fast: the emulator and most Cloud Run updates finish in seconds.
  const gax = (timeoutMs: number): GaxCallOptions => ({
    timeout: timeoutMs,
    // `retry: null` crashes gax's option merge; maxRetries 0 is the supported way to say "once".
    maxRetries: 0,
    longrunning: {
      initialRetryDelayMillis: 25,
      retryDelayMultiplier: 1.5,
      maxRetryDelayMillis: 2_000,
      totalTimeoutMillis: timeoutMs,
    },
  });
  const call = <T>(
    what: string,
    options: CallOptions | undefined,
    work: (gaxOptions: GaxCallOptions) => Promise<T>,
  ) => {
    const timeoutMs = options?.timeoutMs ?? settings.timeoutMs;
    // Reads need the viewer role; runs and updates the developer role on that resource.
    const role = /^(get|list) /.test(what)
      ? 'roles/run.viewer'
      : 'roles/run.developer and roles/iam.serviceAccountUser on the service or job';
    const site = settings.site ? { ...settings.site, role } : undefined;
    return bounded(`cloud run ${what}`, timeoutMs, options?.signal, () => work(gax(timeoutMs)), site);
  };
  const rawService = (service: string, options?: CallOptions) =>
    call(
      `get service ${service}`,
      options,
      async (o) => (await clients.services.getService({ name: serviceName(service) }, o))[0],
    );
  const update = (what: string, service: protos.google.cloud.run.v2.IService, options?: CallOptions) =>
    call(what, options, async (o) => {
      const [operation] = await clients.services.updateService({ service }, o);
      const [result] = await operation.promise();
      return toRunService(result);
    });

  return {
    getService: async (service, options) => toRunService(await rawService(service, options)),
    listServices: (options) =>
      call('list services', options, async (o) =>
        (await clients.services.listServices({ parent }, { ...o, autoPaginate: true }))[0].map(toRunService),
      ),
    listRevisions: (service, options) =>
      call(`list revisions of ${service}`, options, async (o) =>
        (
          await clients.revisions.listRevisions(
            { parent: serviceName(service) },
            { ...o, autoPaginate: true },
          )
        )[0].map(toRunRevision),
      ),
    getRevision: (service, revision, options) =>
      call(`get revision ${revision}`, options, async (o) =>
        toRunRevision(
          (
            await clients.revisions.getRevision({ name: `${serviceName(service)}/revisions/${revision}` }, o)
          )[0],
        ),
      ),
    async updateServiceImage(service, image, labels, options) {
      const current = await rawService(service, options);
      const template = current.template ?? {};
      const [first, ...rest] = template.containers ?? [];
      if (!first)
        throw new PermanentError(`cloud run service ${service} has no container to update`, {
          code: 'gcp-invalid',
        });
      // Already as asked (a worker that was stalled while another finished the job): another update
      // would only roll an identical revision.
      const labelled = Object.entries(labels).every(([key, value]) => template.labels?.[key] === value);
      if (first.image === image && labelled) return { ...toRunService(current), updated: false };
      const result = await update(
        `update service ${service}`,
        {
          ...current,
          labels: { ...(current.labels ?? {}), ...labels },
          template: {
            ...template,
            labels: { ...(template.labels ?? {}), ...labels },
            containers: [{ ...first, image }, ...rest],
          },
        },
        options,
      );
      return { ...result, updated: true };
    },
    async restartService(service, options) {
      const current = await rawService(service, options);
      const template = current.template ?? {};
      const annotations = {
        ...(template.annotations ?? {}),
        'vigil.dev/restarted-at': new Date(settings.clock.now()).toISOString(),
      };
      return update(
        `restart service ${service}`,
        { ...current, template: { ...template, annotations } },
        options,
      );
    },
    async routeTraffic(service, revision, annotations, options) {
      const current = await rawService(service, options);
      return update(
        `route traffic of service ${service} to ${revision}`,
        {
          ...current,
          annotations: { ...(current.annotations ?? {}), ...annotations },
          traffic: [
            {
              type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION',
              revision: `${serviceName(service)}/revisions/${revision}`,
              percent: 100,
            },
          ],
        },
        options,
      );
    },
    getJob: (job, options) =>
      call(`get job ${job}`, options, async (o) =>
        toRunJob((await clients.jobs.getJob({ name: jobName(job) }, o))[0]),
      ),
    runJob: (job, args, options) =>
      call(`run job ${job}`, options, async (o) => {
        const [operation] = await clients.jobs.runJob(
          { name: jobName(job), overrides: { containerOverrides: [{ args: [...args] }] } },
          o,
        );
        if (options?.wait) return toRunExecution((await operation.promise())[0]);
        const started = operation.metadata as protos.google.cloud.run.v2.IExecution | null;
        if (!started?.name)
          throw new PermanentError(`cloud run job ${job}: the run operation named no execution`, {
            code: 'gcp-invalid',
          });
        return toRunExecution(started);
      }),
    getExecution: (job, execution, options) =>
      call(`get execution ${execution}`, options, async (o) =>
        toRunExecution(
          (await clients.executions.getExecution({ name: `${jobName(job)}/executions/${execution}` }, o))[0],
        ),
      ),
    getOperation: (name, options) =>
      call(`get operation ${name}`, options, async (o) => {
        const request = protos.google.longrunning.GetOperationRequest.create({ name });
        const [operation] = await clients.services.getOperation(request, o);
        const error = operation.error
          ? { code: operation.error.code ?? 2, message: operation.error.message ?? '' }
          : undefined;
        return { name: operation.name ?? name, done: operation.done === true, error };
      }),
  };
}
