import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { logFindings } from '../../src/pipeline/tick.js';
import { finding } from '../policies/helpers.js';
import { capture } from '../support/capture.js';

describe('finding log lines', () => {
  it('a raised critical finding is a warn event (error is for vigil failing), a cleared one info', () => {
    const out = capture();
    const logger = pino({ level: 'trace' }, out.stream);

    logFindings([finding({ id: 'f-1' }), { ...finding({ id: 'f-2' }), state: 'cleared' }], logger, 'c');
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; findingId: string; severity: string });

    expect(lines.map((line) => [line.findingId, pino.levels.labels[line.level]])).toEqual([
      ['f-1', 'warn'],
      ['f-2', 'info'],
    ]);
    expect(lines[0]?.severity).toBe('critical');
  });
});
