import type { Clock } from '../../core/clock.js';
import { createRandom, hashString, type Random } from '../world/rng.js';
import {
  type ExecutionRecord,
  type JobRecord,
  type OperationError,
  type OperationRecord,
  type RevisionRecord,
  type ServiceRecord,
  servingRevision,
  type TemplateRecord,
  type TrafficRecord,
} from './model.js';

/** What the world does when an execution's operation completes (e.g. grade the given dates). */
export type ExecutionHandler = (
  job: string,
  args: readonly string[],
) => Promise<Record<string, number | string>>;

export interface RunPlatformOptions {
  readonly project: string;
  readonly region: string;
  readonly seed: number;
  /** The simulated clock: create/update times follow simulated days. */
  readonly clock: Clock;
  /** Wall-clock delay before an operation completes. */
  readonly operationDelayMs: number;
  /** Resolves an image tag or label value to a full commit SHA. */
  readonly resolveCommit: (ref: string) => string | undefined;
  readonly onExecution: ExecutionHandler;
}

/** A request-level failure the REST layer renders as a Google error (HTTP status + rpc status). */
export class RunApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly rpcStatus: string,
    message: string,
  ) {
    super(message);
  }
}

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The Cloud Run control plane: revisions are immutable snapshots of a service template, traffic
 * decides which one serves, and mutations complete through operations after a wall-clock delay.
 */
export class RunPlatform {
  /** Full shas whose revisions answer their health endpoint with errors (the bad-commit scenario). */
  readonly brokenCommits = new Set<string>();

  readonly services = new Map<string, ServiceRecord>();
  readonly jobs = new Map<string, JobRecord>();
  readonly operations = new Map<string, OperationRecord>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<Promise<void>>();
  private random: Random;
  private operationCount = 0;

  constructor(private readonly options: RunPlatformOptions) {
    this.random = createRandom(hashString(`run|${options.seed}`));
  }

  get parent(): string {
    return `projects/${this.options.project}/locations/${this.options.region}`;
  }

  /** Creates a service with its first revision already serving (scenario setup). */
  createService(name: string, description: string, template: TemplateRecord, creator: string): ServiceRecord {
    const now = this.options.clock.now();
    const service: ServiceRecord = {
      name,
      description,
      createTimeMs: now,
      creator,
      labels: { ...template.labels },
      annotations: {},
      template,
      traffic: [{ type: 'LATEST', percent: 100 }],
      generation: 0,
      updateTimeMs: now,
      lastModifier: creator,
      revisions: [],
      latestCreatedRevision: undefined,
      latestReadyRevision: undefined,
      reconciling: false,
    };
    this.services.set(name, service);
    this.deployNow(service, template, creator);
    return service;
  }

  createJob(name: string, template: TemplateRecord): JobRecord {
    const job: JobRecord = {
      name,
      createTimeMs: this.options.clock.now(),
      labels: template.labels,
      template,
      executions: [],
    };
    this.jobs.set(name, job);
    return job;
  }

  /** Applies a template synchronously (scenario deploys happen "between" API calls). */
  deployNow(service: ServiceRecord, template: TemplateRecord, actor: string): RevisionRecord {
    const revision = this.newRevision(service, template, actor);
    this.finishRevision(service, revision);
    return revision;
  }

  getService(name: string): ServiceRecord {
    const service = this.services.get(name);
    if (!service)
      throw new RunApiError(
        404,
        'NOT_FOUND',
        `Resource '${name}' of kind 'SERVICE' in region '${this.options.region}' in project '${this.options.project}' does not exist.`,
      );
    return service;
  }

  getJob(name: string): JobRecord {
    const job = this.jobs.get(name);
    if (!job)
      throw new RunApiError(
        404,
        'NOT_FOUND',
        `Resource '${name}' of kind 'JOB' in region '${this.options.region}' in project '${this.options.project}' does not exist.`,
      );
    return job;
  }

  /**
   * UpdateService: a changed template creates a revision (ready when the operation completes);
   * labels, annotations and traffic are replaced when given. Returns the operation.
   */
  updateService(name: string, patch: ServicePatch, actor: string): OperationRecord {
    const service = this.getService(name);
    if (patch.labels) service.labels = { ...patch.labels };
    if (patch.annotations) service.annotations = { ...patch.annotations };
    if (patch.traffic && patch.traffic.length > 0) service.traffic = [...patch.traffic];
    service.generation += 1;
    service.updateTimeMs = this.options.clock.now();
    service.lastModifier = actor;
    let revision: RevisionRecord | undefined;
    if (patch.template && !sameTemplate(patch.template, service.template)) {
      revision = this.newRevision(service, patch.template, actor);
      service.reconciling = true;
    }
    return this.startOperation('service', name, async () => {
      if (!revision) return undefined;
      return this.finishRevision(service, revision);
    });
  }

  /** RunJob: an execution that runs (and changes the world) when its operation completes. */
  runJob(name: string, args: readonly string[]): { operation: OperationRecord; execution: ExecutionRecord } {
    const job = this.getJob(name);
    const execution: ExecutionRecord = {
      id: `${name}-${this.suffix(5)}`,
      job: name,
      args: [...args],
      createTimeMs: this.options.clock.now(),
      state: 'running',
    };
    job.executions.push(execution);
    const operation = this.startOperation('execution', `${name}/${execution.id}`, async () => {
      try {
        execution.result = await this.options.onExecution(name, args);
        execution.state = 'succeeded';
        return undefined;
      } catch (error) {
        execution.state = 'failed';
        execution.message = error instanceof Error ? error.message : String(error);
        return { code: 9, message: `Execution ${execution.id} failed: ${execution.message}` };
      } finally {
        execution.completionTimeMs = this.options.clock.now();
      }
    });
    return { operation, execution };
  }

  /** Completes operations whose delay has passed; GET operation calls this before answering. */
  async settleDue(nowWallMs: number): Promise<void> {
    for (const operation of this.operations.values()) {
      if (!operation.done && operation.dueAtMs <= nowWallMs) await this.settle(operation);
    }
  }

  /** Waits for in-flight completions and cancels pending timers (shutdown, reset). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.pending]);
  }

  private readonly completions = new Map<string, () => Promise<OperationError | undefined>>();

  private startOperation(
    kind: OperationRecord['kind'],
    target: string,
    complete: () => Promise<OperationError | undefined>,
  ): OperationRecord {
    this.operationCount += 1;
    const id = `${String(this.operationCount).padStart(6, '0')}-${this.suffix(8)}`;
    const operation: OperationRecord = {
      id,
      kind,
      target,
      dueAtMs: Date.now() + this.options.operationDelayMs,
      done: false,
    };
    this.operations.set(id, operation);
    this.completions.set(id, complete);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.settle(operation);
    }, this.options.operationDelayMs);
    timer.unref();
    this.timers.add(timer);
    return operation;
  }

  private settle(operation: OperationRecord): Promise<void> {
    const complete = this.completions.get(operation.id);
    if (!complete) return Promise.resolve();
    // One completion per operation even when the timer and a poll race.
    this.completions.delete(operation.id);
    const work = complete().then((error) => {
      if (error) operation.error = error;
      operation.done = true;
    });
    this.pending.add(work);
    return work.finally(() => this.pending.delete(work));
  }

  private newRevision(service: ServiceRecord, template: TemplateRecord, actor: string): RevisionRecord {
    const number = service.revisions.length + 1;
    const revision: RevisionRecord = {
      id: `${service.name}-${String(number).padStart(5, '0')}-${this.suffix(3)}`,
      service: service.name,
      generation: number,
      template,
      createTimeMs: this.options.clock.now(),
      commit: commitOf(template, this.options.resolveCommit),
      ready: false,
      health: 'ok',
    };
    // A commit made broken on purpose (`Sandbox.breakMain`): its revisions start, and fail health.
    if (revision.commit && this.brokenCommits.has(revision.commit)) revision.health = 'error';
    service.revisions.push(revision);
    service.latestCreatedRevision = revision.id;
    service.template = template;
    service.lastModifier = actor;
    return revision;
  }

  private finishRevision(service: ServiceRecord, revision: RevisionRecord): OperationError | undefined {
    service.reconciling = false;
    if (!revision.commit) {
      revision.failureMessage = `Image '${revision.template.containers[0]?.image ?? ''}' not found.`;
      return {
        code: 5,
        message: `Revision '${revision.id}' is not ready and cannot serve traffic. ${revision.failureMessage}`,
      };
    }
    revision.ready = true;
    service.latestReadyRevision = revision.id;
    return undefined;
  }

  private suffix(length: number): string {
    let out = '';
    for (let index = 0; index < length; index++) {
      out += SUFFIX_ALPHABET[Math.floor(this.random() * SUFFIX_ALPHABET.length)];
    }
    return out;
  }
}

export interface ServicePatch {
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly template?: TemplateRecord;
  readonly traffic?: TrafficRecord[];
}

/** The commit an image was built from: the `commit-sha` label, else the image tag. */
function commitOf(
  template: TemplateRecord,
  resolve: (ref: string) => string | undefined,
): string | undefined {
  const image = template.containers[0]?.image ?? '';
  const tag = image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : '';
  const label = template.labels['commit-sha'];
  const fromTag = tag ? resolve(tag) : undefined;
  // An image whose tag names no commit is a missing image even if the label is right.
  if (!fromTag) return undefined;
  return (label ? resolve(label) : undefined) ?? fromTag;
}

function sameTemplate(a: TemplateRecord, b: TemplateRecord): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with sorted keys: a client may send the same template with its fields in another order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export { servingRevision };
