import { describe, expect, it } from 'vitest';
import { clockFromEnvironment, clockStartingAt, ManualClock, systemClock } from '../../src/core/clock.js';

describe('clocks', () => {
  it('VIGIL_NOW pins one-shot commands and starts the daemon clock, which then runs on', () => {
    const wall = new ManualClock(1_000);
    const running = clockStartingAt(Date.parse('2026-02-02T12:00:00Z'), wall);
    wall.advance(1_500);

    expect(clockFromEnvironment({ VIGIL_NOW: '2026-02-02T12:00:00Z' }).now()).toBe(
      Date.parse('2026-02-02T12:00:00Z'),
    );
    expect(new Date(running.now()).toISOString()).toBe('2026-02-02T12:00:01.500Z');
    expect(clockFromEnvironment({})).toBe(systemClock);
    expect(() => clockFromEnvironment({ VIGIL_NOW: 'yesterday' })).toThrow(
      'expected an ISO-8601 time, got "yesterday"',
    );
  });
});
