import type { protos } from '@google-cloud/run';

/**
 * Cloud Run resources as plain, typed objects. The client returns plain objects from direct calls
 * but protobuf messages (Long, numeric enums) from operations; everything is normalised here so
 * nothing past src/platform sees either. Names are short (`prediction-worker`), times epoch ms.
 */
export interface TrafficTarget {
  readonly type: 'LATEST' | 'REVISION';
  readonly revision?: string;
  readonly percent: number;
}

export interface RunService {
  readonly name: string;
  readonly resourceName: string;
  readonly generation: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Image of the template's first container. */
  readonly image: string;
  readonly templateLabels: Readonly<Record<string, string>>;
  readonly templateAnnotations: Readonly<Record<string, string>>;
  /** The `commit-sha` label of the template (else of the service), if any. */
  readonly commitSha: string | undefined;
  readonly latestReadyRevision: string | undefined;
  readonly latestCreatedRevision: string | undefined;
  readonly traffic: readonly TrafficTarget[];
  readonly ready: boolean;
  readonly reconciling: boolean;
  readonly updateTime: number | undefined;
  readonly uri: string;
}

export interface RunRevision {
  readonly name: string;
  readonly service: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly commitSha: string | undefined;
  readonly createTime: number | undefined;
  readonly ready: boolean;
}

export interface RunJob {
  readonly name: string;
  readonly image: string;
  readonly args: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly executionCount: number;
  readonly latestExecution: string | undefined;
}

export type ExecutionStatus = 'running' | 'succeeded' | 'failed';

export interface RunExecution {
  readonly name: string;
  readonly job: string;
  readonly resourceName: string;
  readonly status: ExecutionStatus;
  readonly args: readonly string[];
  readonly createTime: number | undefined;
  readonly completionTime: number | undefined;
  readonly succeededCount: number;
  readonly failedCount: number;
  readonly message: string | undefined;
}

export interface RunOperation {
  readonly name: string;
  readonly done: boolean;
  readonly error: { readonly code: number; readonly message: string } | undefined;
}

type Timestamp = protos.google.protobuf.ITimestamp | null | undefined;
type Int = number | string | { toNumber(): number } | null | undefined;

const shortName = (name: string | null | undefined): string => (name ?? '').split('/').at(-1) ?? '';
const optionalShort = (name: string | null | undefined): string | undefined =>
  name ? shortName(name) : undefined;
const map = (value: Record<string, string> | null | undefined): Record<string, string> => ({
  ...(value ?? {}),
});

function int(value: Int): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'object') return value.toNumber();
  return Number(value);
}

function millis(value: Timestamp | string): number | undefined {
  if (!value) return undefined;
  if (typeof value === 'string') return Date.parse(value);
  return int(value.seconds as Int) * 1000 + Math.floor((value.nanos ?? 0) / 1e6);
}

/** Condition and traffic enums arrive as names from direct calls and numbers from operations. */
function succeeded(state: unknown): boolean {
  return state === 'CONDITION_SUCCEEDED' || state === 2;
}

function trafficType(type: unknown): TrafficTarget['type'] {
  return type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' || type === 1 ? 'LATEST' : 'REVISION';
}

export function toRunService(service: protos.google.cloud.run.v2.IService): RunService {
  const template = service.template ?? {};
  const templateLabels = map(template.labels);
  const labels = map(service.labels);
  return {
    name: shortName(service.name),
    resourceName: service.name ?? '',
    generation: int(service.generation as Int),
    labels,
    annotations: map(service.annotations),
    image: template.containers?.[0]?.image ?? '',
    templateLabels,
    templateAnnotations: map(template.annotations),
    commitSha: templateLabels['commit-sha'] ?? labels['commit-sha'],
    latestReadyRevision: optionalShort(service.latestReadyRevision),
    latestCreatedRevision: optionalShort(service.latestCreatedRevision),
    traffic: (service.traffic ?? []).map((target) => {
      const type = trafficType(target.type);
      const revision = optionalShort(target.revision);
      return type === 'REVISION' && revision
        ? { type, revision, percent: target.percent ?? 0 }
        : { type, percent: target.percent ?? 0 };
    }),
    ready: succeeded(service.terminalCondition?.state),
    reconciling: service.reconciling === true,
    updateTime: millis(service.updateTime as Timestamp),
    uri: service.uri ?? '',
  };
}

export function toRunRevision(revision: protos.google.cloud.run.v2.IRevision): RunRevision {
  const labels = map(revision.labels);
  return {
    name: shortName(revision.name),
    service: shortName(revision.service),
    image: revision.containers?.[0]?.image ?? '',
    labels,
    annotations: map(revision.annotations),
    commitSha: labels['commit-sha'],
    createTime: millis(revision.createTime as Timestamp),
    ready: (revision.conditions ?? []).some(
      (condition) => condition.type === 'Ready' && succeeded(condition.state),
    ),
  };
}

export function toRunJob(job: protos.google.cloud.run.v2.IJob): RunJob {
  const container = job.template?.template?.containers?.[0];
  return {
    name: shortName(job.name),
    image: container?.image ?? '',
    args: [...(container?.args ?? [])],
    labels: map(job.labels),
    executionCount: int(job.executionCount as Int),
    latestExecution: optionalShort(job.latestCreatedExecution?.name),
  };
}

export function toRunExecution(execution: protos.google.cloud.run.v2.IExecution): RunExecution {
  const succeededCount = int(execution.succeededCount as Int);
  const failedCount = int(execution.failedCount as Int);
  const completion = millis(execution.completionTime as Timestamp);
  const failed = (execution.conditions ?? []).find(
    (condition) => condition.type === 'Completed' && !succeeded(condition.state),
  );
  return {
    name: shortName(execution.name),
    job: shortName(execution.job) || (execution.name ?? '').split('/')[5] || '',
    resourceName: execution.name ?? '',
    status:
      failedCount > 0 ? 'failed' : succeededCount > 0 || completion !== undefined ? 'succeeded' : 'running',
    args: [...(execution.template?.containers?.[0]?.args ?? [])],
    createTime: millis(execution.createTime as Timestamp),
    completionTime: completion,
    succeededCount,
    failedCount,
    message: failed?.message || undefined,
  };
}

/**
 * The service annotation vigil's rollback sets (the bad commit): the drift collector reads it and
 * keeps reporting the drift as `pinned by vigil rollback of COMMIT`, not as a human's pin.
 */
export const ROLLBACK_ANNOTATION = 'vigil.dev/rollback-of';
