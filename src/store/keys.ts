/**
 * The one home of every Redis key name vigil uses, and of the prefix convention.
 *
 * Convention: a deployment's namespace is `redis.key_prefix` (default `vigil`, or `{vigil}` on
 * Redis Cluster so a deployment's keys share one hash slot). Every key is `<namespace>:<name>`;
 * BullMQ gets the bare namespace as its `prefix` and adds `:<queue>:…` itself. A namespace written
 * with a trailing `:` means the same namespace (it is stripped), so `vigil` and `vigil:` never
 * produce two spellings of one key.
 *
 * Keys (`<kt>` = `kind|target`):
 * - `series:<series>`, `series-version`, `detection-state`      history and detector state
 * - `collector-lease:<id>`                                      one run of a collector fleet-wide
 * - `policy:cooldown:<kt>`   last run start, epoch ms
 * - `policy:runs:<kt>`       sorted set of runs by start time; `policy:runs:<kind>` across targets
 * - `policy:failures:<kt>`   consecutive failures
 * - `policy:breaker:<kt>`    breaker open until, epoch ms
 * - `policy:running:<kind>`  runs of a kind in progress (`max_concurrent`), by lease end (Redis clock)
 * - `policy:claims:<kt>`     claims not yet committed (run id → previous last-run time), for give-backs
 * - `approval:pending:<findingId>`, `approval:granted:<findingId>`; channel `approval-granted`
 * - `requeue:<jobId>:<created>`  one replica queues a failed plan again
 * - `policy:rebuilt:<replica>`   the replica's audit history is in the counters (no expiry)
 * - `evidence:<kt>`          series a run on the target should fix (hash series → JSON), for verification
 * - `control:holds`          automatic and human holds (hash `<kt>` → JSON with expiry)
 * - `control:pause`          the fleet-wide pause (JSON, expires with the pause)
 * - `control:silences`       run-time silences (hash id → JSON with expiry)
 * - `control:do-not-deploy`  commits vigil rolled back (hash `<service>|<commit>` → JSON with expiry)
 * - `control:breaker-resets` when a human last closed each breaker (hash `<kt>` → epoch ms)
 * - `status:findings` (hash id → finding), `status:findings:seen` (zset by last update),
 *   `status:findings:first` (hash id → first recorded), `status:events` (stream of audit records),
 *   `status:collectors` (hash id → last tick), `status:policy` (hash replica → policy in force):
 *   the status read model (src/status), written by every replica
 */
export type CounterFamily = 'cooldown' | 'runs' | 'failures' | 'breaker' | 'running' | 'claims';
export type ApprovalState = 'pending' | 'granted';
export type StatusKeyName =
  | 'findings'
  | 'findings:seen'
  | 'findings:first'
  | 'events'
  | 'collectors'
  | 'policy';

export class RedisKeys {
  /** The namespace without a trailing `:`; also the BullMQ `prefix`. */
  readonly namespace: string;

  constructor(namespace: string) {
    this.namespace = namespace.replace(/:+$/, '');
    if (this.namespace === '') throw new Error('a Redis key namespace must not be empty');
  }

  /** BullMQ's `prefix` option (it joins its own parts with `:`). */
  get bullmq(): string {
    return this.namespace;
  }

  /** SCAN pattern matching every key of this namespace (BullMQ's included). */
  get all(): string {
    return `${this.namespace}:*`;
  }

  series(series: string): string {
    return this.key(`series:${series}`);
  }

  get seriesVersion(): string {
    return this.key('series-version');
  }

  get detectionState(): string {
    return this.key('detection-state');
  }

  collectorLease(collectorId: string): string {
    return this.key(`collector-lease:${collectorId}`);
  }

  /** A policy counter of one (kind, target), or of the whole kind when `target` is undefined. */
  counter(family: CounterFamily, kind: string, target?: string): string {
    return this.key(`policy:${family}:${target === undefined ? kind : `${kind}|${target}`}`);
  }

  /** Set once `replica`'s audit history is in this Redis's counters (see policies/rebuild.ts). */
  countersRebuilt(replica: string): string {
    return this.key(`policy:rebuilt:${replica}`);
  }

  /** Lock on queueing the failed remediation job `jobId` (created at `created`) again. */
  requeueLock(jobId: string, created: number): string {
    return this.key(`requeue:${jobId}:${created}`);
  }

  /** Pub/sub channel on which a grant names its finding, so a replica acts on it at once. */
  get approvalGranted(): string {
    return this.key('approval-granted');
  }

  approval(state: ApprovalState, findingId: string): string {
    return this.key(`approval:${state}:${findingId}`);
  }

  /** The series a run on (kind, target) should fix, with their values before it. */
  evidence(kind: string, target: string): string {
    return this.key(`evidence:${kind}|${target}`);
  }

  /** Run-time controls every gate reads (holds, pause, silences, do-not-deploy memory). */
  control(name: 'holds' | 'pause' | 'silences' | 'do-not-deploy' | 'breaker-resets'): string {
    return this.key(`control:${name}`);
  }

  /** The status read model's keys (src/status/recorder.ts writes them, read-model.ts reads them). */
  status(name: StatusKeyName): string {
    return this.key(`status:${name}`);
  }

  private key(name: string): string {
    return `${this.namespace}:${name}`;
  }
}

export function redisKeys(namespace: string): RedisKeys {
  return new RedisKeys(namespace);
}
