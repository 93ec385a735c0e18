/**
 * Run-time controls: what humans (and vigil's own escalations) set while vigil runs, kept in Redis
 * so every replica's gates see the same thing at once. Plain data; `ControlStore` reads and writes
 * them, the policy gates judge them (a pure function of the data and the time).
 */

/** Automatic runs of one (kind, target) stop until `until` or until a human clears it. */
export interface Hold {
  readonly kind: string;
  readonly target: string;
  readonly since: number;
  readonly until: number;
  /** `vigil` for automatic holds (ineffective, failure streak), else the human's name. */
  readonly by: string;
  readonly reason: string;
}

/** The fleet-wide kill switch (`vigil pause`); `until` null means until `vigil resume`. */
export interface Pause {
  readonly by: string;
  readonly reason: string;
  readonly since: number;
  readonly until: number | null;
}

/** A run-time override with effect `off` (Alertmanager's silence): selects a target, optionally a kind. */
export interface Silence {
  readonly id: string;
  readonly target: string;
  readonly kind: string | undefined;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly reason: string;
}

/** A commit vigil rolled back: no redeploy may roll the service to it until `until`. */
export interface DeployMemory {
  readonly service: string;
  readonly commit: string;
  /** Always `vigil`: the policy file's `do_not_deploy` holds the human entries. */
  readonly provenance: 'vigil';
  readonly evidence: string;
  readonly since: number;
  readonly until: number;
}

/** Everything the gates need from the run-time controls, read in one round trip. */
export interface RuntimeControls {
  readonly pause: Pause | undefined;
  /** Keyed by `counterKey(kind, target)`. */
  readonly holds: Readonly<Record<string, Hold>>;
  readonly silences: readonly Silence[];
  readonly doNotDeploy: readonly DeployMemory[];
  /** When a human last closed each breaker (`vigil breaker close`), by `counterKey(kind, target)`. */
  readonly breakerResets: Readonly<Record<string, number>>;
}

export const NO_CONTROLS: RuntimeControls = Object.freeze({
  pause: undefined,
  holds: Object.freeze({}),
  silences: Object.freeze([]),
  doNotDeploy: Object.freeze([]),
  breakerResets: Object.freeze({}),
});

/** Whether a pause is in force at `now`. */
export function pauseActive(pause: Pause | undefined, now: number): pause is Pause {
  return pause !== undefined && (pause.until === null || now < pause.until);
}
