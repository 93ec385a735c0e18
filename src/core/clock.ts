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
