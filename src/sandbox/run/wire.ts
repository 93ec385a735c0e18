import { z } from 'zod';
import type {
  ContainerRecord,
  ExecutionRecord,
  JobRecord,
  OperationRecord,
  RevisionRecord,
  ServiceRecord,
  TemplateRecord,
  TrafficRecord,
} from './model.js';
import { RunApiError, type ServicePatch } from './platform.js';

/**
 * Cloud Run Admin v2 JSON (REST transport): camelCase, int64 as strings, timestamps RFC 3339,
 * enums by name (the client's decoder accepts names and numbers).
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const iso = (ms: number): string => new Date(ms).toISOString();

export function renderContainer(container: ContainerRecord): Json {
  return {
    name: container.name,
    image: container.image,
    args: [...container.args],
    env: container.env.map((variable) => ({ name: variable.name, value: variable.value })),
    resources: { limits: { cpu: '1', memory: '2Gi' }, cpuIdle: true },
    ports: [{ name: 'http1', containerPort: 8080 }],
  };
}

function renderTemplate(template: TemplateRecord): Json {
  return {
    labels: { ...template.labels },
    annotations: { ...template.annotations },
    containers: template.containers.map(renderContainer),
    serviceAccount: template.serviceAccount,
    timeout: template.timeout,
    scaling: { minInstanceCount: 0, maxInstanceCount: 10 },
    maxInstanceRequestConcurrency: 80,
  };
}

const condition = (type: string, ok: boolean, message = ''): Json => ({
  type,
  state: ok ? 'CONDITION_SUCCEEDED' : 'CONDITION_FAILED',
  message,
});

function renderTraffic(target: TrafficRecord): Json {
  const type =
    target.type === 'LATEST'
      ? 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST'
      : 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';
  return target.revision
    ? { type, revision: target.revision, percent: target.percent }
    : { type, percent: target.percent };
}

export function renderService(parent: string, service: ServiceRecord): Json {
  const latest = service.revisions.find((revision) => revision.id === service.latestCreatedRevision);
  const failed = latest !== undefined && !latest.ready && !service.reconciling;
  return {
    name: `${parent}/services/${service.name}`,
    uid: `uid-${service.name}`,
    description: service.description,
    generation: String(service.generation),
    labels: { ...service.labels },
    annotations: { ...service.annotations },
    createTime: iso(service.createTimeMs),
    updateTime: iso(service.updateTimeMs),
    creator: service.creator,
    lastModifier: service.lastModifier,
    ingress: 'INGRESS_TRAFFIC_ALL',
    launchStage: 'GA',
    template: renderTemplate(service.template),
    traffic: service.traffic.map(renderTraffic),
    observedGeneration: String(service.reconciling ? service.generation - 1 : service.generation),
    terminalCondition: condition('Ready', !failed, failed ? (latest?.failureMessage ?? '') : ''),
    latestReadyRevision: service.latestReadyRevision
      ? `${parent}/services/${service.name}/revisions/${service.latestReadyRevision}`
      : '',
    latestCreatedRevision: service.latestCreatedRevision
      ? `${parent}/services/${service.name}/revisions/${service.latestCreatedRevision}`
      : '',
    trafficStatuses: service.traffic.map(renderTraffic),
    uri: `https://${service.name}-sandbox.a.run.app`,
    reconciling: service.reconciling,
    etag: serviceEtag(service.generation),
  };
}

export function renderRevision(parent: string, revision: RevisionRecord): Json {
  return {
    name: `${parent}/services/${revision.service}/revisions/${revision.id}`,
    uid: `uid-${revision.id}`,
    generation: '1',
    labels: { ...revision.template.labels },
    annotations: { ...revision.template.annotations },
    createTime: iso(revision.createTimeMs),
    updateTime: iso(revision.createTimeMs),
    service: `${parent}/services/${revision.service}`,
    containers: revision.template.containers.map(renderContainer),
    serviceAccount: revision.template.serviceAccount,
    timeout: revision.template.timeout,
    conditions: [condition('Ready', revision.ready, revision.failureMessage ?? '')],
    observedGeneration: '1',
    reconciling: false,
    etag: `"${revision.id}"`,
  };
}

export function renderJob(parent: string, job: JobRecord): Json {
  const last = job.executions.at(-1);
  return {
    name: `${parent}/jobs/${job.name}`,
    uid: `uid-${job.name}`,
    generation: '1',
    labels: { ...job.labels },
    createTime: iso(job.createTimeMs),
    updateTime: iso(job.createTimeMs),
    launchStage: 'GA',
    template: {
      labels: { ...job.template.labels },
      taskCount: 1,
      parallelism: 1,
      template: {
        containers: job.template.containers.map(renderContainer),
        maxRetries: 0,
        timeout: job.template.timeout,
      },
    },
    observedGeneration: '1',
    terminalCondition: condition('Ready', true),
    executionCount: job.executions.length,
    ...(last
      ? {
          latestCreatedExecution: {
            name: `${parent}/jobs/${job.name}/executions/${last.id}`,
            createTime: iso(last.createTimeMs),
          },
        }
      : {}),
    reconciling: false,
    etag: '"1"',
  };
}

export function renderExecution(parent: string, execution: ExecutionRecord): Json {
  const done = execution.state !== 'running';
  return {
    name: `${parent}/jobs/${execution.job}/executions/${execution.id}`,
    uid: `uid-${execution.id}`,
    generation: '1',
    labels: { 'run.googleapis.com/execution-environment': 'gen2' },
    createTime: iso(execution.createTimeMs),
    startTime: iso(execution.createTimeMs),
    ...(execution.completionTimeMs !== undefined ? { completionTime: iso(execution.completionTimeMs) } : {}),
    job: execution.job,
    taskCount: 1,
    parallelism: 1,
    template: { containers: [{ image: 'grading-backfill', args: [...execution.args] }] },
    conditions: done
      ? [condition('Completed', execution.state === 'succeeded', execution.message ?? '')]
      : [],
    runningCount: done ? 0 : 1,
    succeededCount: execution.state === 'succeeded' ? 1 : 0,
    failedCount: execution.state === 'failed' ? 1 : 0,
    reconciling: !done,
    etag: `"${execution.id}"`,
  };
}

const TYPE_PREFIX = 'type.googleapis.com/google.cloud.run.v2.';

/**
 * An Operation. Its metadata is the resource being changed (as Cloud Run v2 sends it), so a
 * client learns an execution's name before it finishes; `@type` is mandatory for decoding.
 */
export function renderOperation(parent: string, operation: OperationRecord, resource: () => Json): Json {
  const type = `${TYPE_PREFIX}${operation.kind === 'service' ? 'Service' : 'Execution'}`;
  const body = resource() as Record<string, Json> | null;
  const base = {
    name: `${parent}/operations/${operation.id}`,
    done: operation.done,
    ...(body ? { metadata: { '@type': type, ...body } } : {}),
  };
  if (!operation.done) return base;
  if (operation.error)
    return { ...base, error: { code: operation.error.code, message: operation.error.message } };
  return { ...base, response: { '@type': type, ...(body ?? {}) } };
}

// Requests are parsed for the fields the emulator uses; anything else is ignored (lenient for machines).
const stringMap = z.record(z.string(), z.string()).optional();
const container = z.object({
  name: z.string().optional(),
  image: z.string().min(1),
  args: z.array(z.string()).optional(),
  env: z.array(z.object({ name: z.string(), value: z.string().optional() })).optional(),
});
const trafficType = z.union([z.string(), z.number()]).optional();
const servicePatch = z.object({
  /** When sent, must match the current one: Cloud Run refuses an update made from a stale read. */
  etag: z.string().optional(),
  labels: stringMap,
  annotations: stringMap,
  template: z
    .object({
      labels: stringMap,
      annotations: stringMap,
      containers: z.array(container).min(1),
      serviceAccount: z.string().optional(),
      timeout: z.string().optional(),
    })
    .optional(),
  traffic: z
    .array(
      z.object({
        type: trafficType,
        revision: z.string().optional(),
        percent: z.number().int().min(0).max(100).optional(),
      }),
    )
    .optional(),
});

/** Parses a PATCH body (a Service) into a patch; `current` supplies template defaults. */
/** The service's current etag (what GET returns), for the optimistic-concurrency check on update. */
export function serviceEtag(generation: number): string {
  return `"${generation}"`;
}

/** Refuses an update whose etag names an older version of the service (ABORTED, HTTP 409). */
export function checkEtag(body: unknown, generation: number): void {
  const sent = (body as { etag?: unknown } | null)?.etag;
  if (typeof sent === 'string' && sent !== '' && sent !== serviceEtag(generation)) {
    throw new RunApiError(
      409,
      'ABORTED',
      `etag ${sent} is stale: the service changed since it was read (now ${serviceEtag(generation)})`,
    );
  }
}

export function parseServicePatch(body: unknown, current: TemplateRecord): ServicePatch {
  const parsed = servicePatch.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RunApiError(
      400,
      'INVALID_ARGUMENT',
      `Invalid Service: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const { labels, annotations, template, traffic } = parsed.data;
  return {
    ...(labels ? { labels } : {}),
    ...(annotations ? { annotations } : {}),
    ...(template
      ? {
          template: {
            labels: template.labels ?? {},
            annotations: template.annotations ?? {},
            containers: template.containers.map((item, index) => ({
              name: item.name ?? current.containers[index]?.name ?? '',
              image: item.image,
              args: item.args ?? [],
              env: (item.env ?? []).map((variable) => ({ name: variable.name, value: variable.value ?? '' })),
            })),
            serviceAccount: template.serviceAccount ?? current.serviceAccount,
            timeout: template.timeout ?? current.timeout,
          },
        }
      : {}),
    ...(traffic ? { traffic: traffic.map(parseTraffic) } : {}),
  };
}

function parseTraffic(target: {
  type?: string | number;
  revision?: string;
  percent?: number;
}): TrafficRecord {
  const latest = target.type === 1 || target.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';
  const revision = target.revision?.split('/').at(-1);
  if (!latest && !revision)
    throw new RunApiError(400, 'INVALID_ARGUMENT', 'traffic target needs type LATEST or a revision');
  return latest
    ? { type: 'LATEST', percent: target.percent ?? 0 }
    : { type: 'REVISION', revision: revision as string, percent: target.percent ?? 0 };
}

const runRequest = z.object({
  overrides: z
    .object({ containerOverrides: z.array(z.object({ args: z.array(z.string()).optional() })).optional() })
    .optional(),
});

/** The args of a RunJob request (first container override), or undefined when none were given. */
export function parseRunArgs(body: unknown): readonly string[] | undefined {
  const parsed = runRequest.safeParse(body ?? {});
  if (!parsed.success) throw new RunApiError(400, 'INVALID_ARGUMENT', 'Invalid RunJobRequest');
  return parsed.data.overrides?.containerOverrides?.[0]?.args;
}
