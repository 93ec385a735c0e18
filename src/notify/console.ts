import { z } from 'zod';
import { renderText } from './lib/format.js';
import type { NotifierDefinition } from './types.js';

/**
 * Prints each notification as plain lines. The daemon's logs are JSON on stdout, so these go to
 * stderr by default: a log shipper parsing stdout never meets a text line, and a human at a
 * terminal still sees both. `stream: stdout` puts them with the logs instead.
 */
export const consoleNotifier: NotifierDefinition<{ prefix: string; stream: 'stdout' | 'stderr' }> = {
  kind: 'console',
  summary: 'print notifications as plain lines on stderr (or stdout)',
  options: z.strictObject({
    prefix: z.string().default('[vigil] '),
    stream: z.enum(['stdout', 'stderr']).default('stderr'),
  }),
  create(options, deps) {
    const out = deps.out ?? (options.stream === 'stdout' ? process.stdout : process.stderr);
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
