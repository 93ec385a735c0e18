/**
 * In-memory Cloud Run state: services with their revisions and traffic, jobs with their
 * executions. Plain records; the REST rendering lives in wire.ts, the lifecycle in platform.ts.
 */
export type HealthMode = 'ok' | 'error' | 'timeout';

export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

export interface ContainerRecord {
  readonly name: string;
  readonly image: string;
  readonly args: readonly string[];
  readonly env: readonly EnvVar[];
}

export interface TemplateRecord {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerRecord[];
  readonly serviceAccount: string;
  readonly timeout: string;
}

export interface RevisionRecord {
  /** Short id, e.g. `prediction-worker-00003-k2x`. */
  readonly id: string;
  readonly service: string;
  readonly generation: number;
  readonly template: TemplateRecord;
  readonly createTimeMs: number;
  /** Full SHA the image was built from, or undefined when the image does not name a known commit. */
  readonly commit: string | undefined;
  ready: boolean;
  failureMessage?: string;
  /** How the revision's health endpoint answers; a wedge lasts until another revision serves. */
  health: HealthMode;
}

export interface TrafficRecord {
  readonly type: 'LATEST' | 'REVISION';
  readonly revision?: string;
  readonly percent: number;
}

export interface ServiceRecord {
  readonly name: string;
  readonly description: string;
  readonly createTimeMs: number;
  readonly creator: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  template: TemplateRecord;
  traffic: TrafficRecord[];
  generation: number;
  updateTimeMs: number;
  lastModifier: string;
  revisions: RevisionRecord[];
  latestCreatedRevision: string | undefined;
  latestReadyRevision: string | undefined;
  reconciling: boolean;
}

export type ExecutionState = 'running' | 'succeeded' | 'failed';

export interface ExecutionRecord {
  /** Short id, e.g. `grading-backfill-7k2pq`. */
  readonly id: string;
  readonly job: string;
  readonly args: readonly string[];
  readonly createTimeMs: number;
  state: ExecutionState;
  completionTimeMs?: number;
  message?: string;
  /** What the execution did, for the control API (e.g. rows graded). */
  result?: Readonly<Record<string, number | string>>;
}

export interface JobRecord {
  readonly name: string;
  readonly createTimeMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly template: TemplateRecord;
  executions: ExecutionRecord[];
}

export interface OperationError {
  /** google.rpc.Code. */
  readonly code: number;
  readonly message: string;
}

export interface OperationRecord {
  readonly id: string;
  readonly kind: 'service' | 'execution';
  /** Service name or `job/executionId`. */
  readonly target: string;
  /** Wall-clock ms (operations are about real latency, not simulated days). */
  readonly dueAtMs: number;
  done: boolean;
  error?: OperationError;
}

/** Which revision answers most of a service's traffic. */
export function servingRevision(service: ServiceRecord): RevisionRecord | undefined {
  let best: { id: string | undefined; percent: number } = { id: undefined, percent: -1 };
  for (const target of service.traffic) {
    const id = target.type === 'LATEST' ? service.latestReadyRevision : target.revision;
    if (target.percent > best.percent) best = { id, percent: target.percent };
  }
  return service.revisions.find((revision) => revision.id === best.id);
}
