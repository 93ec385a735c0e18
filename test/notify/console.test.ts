import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { consoleNotifier } from '../../src/notify/console.js';
import type { NotifyEvent } from '../../src/notify/types.js';
import { finding } from '../policies/helpers.js';
import { capture } from '../support/capture.js';

async function printed(event: NotifyEvent): Promise<string[]> {
  const out = capture();
  const notifier = consoleNotifier.create(consoleNotifier.options.parse({}), {
    id: 'console-0',
    logger: pino({ level: 'silent' }),
    clock: systemClock,
    out: out.stream,
  });
  await notifier.notify(event, new AbortController().signal);
  return out.text().split('\n').filter(Boolean);
}

describe('console notifier', () => {
  it('prints a raised finding with its decisions', async () => {
    const lines = await printed({
      type: 'finding',
      finding: finding({ id: 'f-1' }),
      decisions: [{ action: 'skip', ruleId: 'drift', reason: 'cooldown for redeploy-service/nba-phase4' }],
    });

    expect(lines).toEqual([
      '[vigil] raised critical deploy_drift_commits_behind{main_commit="6f195068",service="nba-phase4"} = 598: drift (finding f-1, since 2026-02-03T13:00:00.000Z)',
      '[vigil]   skip: cooldown for redeploy-service/nba-phase4 [rule drift]',
    ]);
  });

  it('prints a cleared finding and a rejected policy edit', async () => {
    const cleared = await printed({
      type: 'finding',
      finding: finding({ id: 'f-1', state: 'cleared', value: 0 }),
      decisions: [],
    });
    const rejected = await printed({
      type: 'policy-rejected',
      file: 'policy.yaml',
      problems: ['policy.yaml:1 mode: expected one of auto, dry-run, notify-only, off'],
    });

    expect(cleared).toEqual([
      '[vigil] cleared deploy_drift_commits_behind{main_commit="6f195068",service="nba-phase4"} = 0 (finding f-1, open since 2026-02-03T13:00:00.000Z)',
    ]);
    expect(rejected).toEqual([
      '[vigil] policy policy.yaml rejected; the last good policy stays in force:',
      '[vigil]   policy.yaml:1 mode: expected one of auto, dry-run, notify-only, off',
    ]);
  });
});

describe('console notifier stream', () => {
  it('writes to stderr by default, so stdout carries only the JSON logs', async () => {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const notifier = consoleNotifier.create(consoleNotifier.options.parse({}), {
        id: 'console-0',
        logger: pino({ level: 'silent' }),
        clock: systemClock,
      });
      await notifier.notify(
        { type: 'finding', finding: finding({ id: 'f-9' }), decisions: [] },
        new AbortController().signal,
      );
    } finally {
      process.stderr.write = original;
    }

    expect(written.join('')).toContain('[vigil] raised');
    expect(consoleNotifier.options.parse({ stream: 'stdout' }).stream).toBe('stdout');
  });
});
