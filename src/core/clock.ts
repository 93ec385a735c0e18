import { ConfigError } from './errors.js';

/**
 * The only place in vigil that reads the wall clock. Everything else receives a Clock,
 * so tests and the sandbox can move time explicitly.
 */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
};

/** A clock that only moves when told to; for tests and simulated time. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: number | Date = 0) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  set(time: number | Date): void {
    this.current = typeof time === 'number' ? time : time.getTime();
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`ManualClock cannot move by ${ms} ms`);
    this.current += ms;
  }
}

/**
 * A clock that starts at `start` and runs at wall-clock speed from the moment it is made: a daemon
 * replaying a simulated day still sees time pass (probes a second apart are different points).
 */
export function clockStartingAt(start: number, wall: Clock = systemClock): Clock {
  const origin = wall.now();
  return { now: () => start + (wall.now() - origin) };
}

/**
 * The clock a command should use: the system clock, or one set by `VIGIL_NOW` (an ISO-8601 time)
 * for replays and the sandbox, whose data lives on a simulated day — pinned there for one-shot
 * commands, or starting there and running on (`advancing`) for the daemon.
 */
export function clockFromEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { readonly advancing?: boolean } = {},
): Clock {
  const pinned = env.VIGIL_NOW;
  if (pinned === undefined || pinned === '') return systemClock;
  const time = Date.parse(pinned);
  if (Number.isNaN(time)) {
    const problem = `environment VIGIL_NOW: expected an ISO-8601 time, got ${JSON.stringify(pinned)}`;
    throw new ConfigError(problem, [problem]);
  }
  return options.advancing ? clockStartingAt(time) : new ManualClock(time);
}
