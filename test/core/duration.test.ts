import { describe, expect, it } from 'vitest';
import { duration, formatDuration, parseDuration } from '../../src/core/duration.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', '30 seconds', '-5m', '5x', 'm5'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('round-trips through formatDuration', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(parseDuration(formatDuration(93_784_005))).toBe(93_784_005);
  });

  it('gives a zod error that says what is accepted', () => {
    const result = duration.safeParse('soon');

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('expected a duration like 30s, 5m, 1h or 7d, got "soon"');
  });
});
