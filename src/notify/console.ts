import { z } from 'zod';
import { renderText } from './lib/format.js';
import type { NotifierDefinition } from './types.js';

/** Prints each notification as plain lines (the demo, and deployments whose logs are the channel). */
export const consoleNotifier: NotifierDefinition<{ prefix: string }> = {
  kind: 'console',
  summary: 'print notifications as plain lines on stdout',
  options: z.strictObject({ prefix: z.string().default('[vigil] ') }),
  create(options, deps) {
    const out = deps.out ?? process.stdout;
    return {
      id: deps.id,
      kind: 'console',
      async notify(event) {
        const text = renderText(event)
          .split('\n')
          .map((line) => `${options.prefix}${line}\n`)
          .join('');
        out.write(text);
      },
    };
  },
};
