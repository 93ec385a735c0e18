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
 * The clock a command should use: the system clock, or a clock pinned by `VIGIL_NOW`
 * (an ISO-8601 time) for replays and the sandbox, whose data lives on a simulated day.
 */
export function clockFromEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): Clock {
  const pinned = env.VIGIL_NOW;
  if (pinned === undefined || pinned === '') return systemClock;
  const time = Date.parse(pinned);
  if (Number.isNaN(time)) {
    const problem = `environment VIGIL_NOW: expected an ISO-8601 time, got ${JSON.stringify(pinned)}`;
    throw new ConfigError(problem, [problem]);
  }
  return new ManualClock(time);
}
