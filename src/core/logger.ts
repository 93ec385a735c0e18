import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object: webhook URLs, tokens, credentials,
 * authorization headers, Redis passwords. The Secret type covers values held in code; this
 * covers values that reach a log inside plain objects (config dumps, HTTP errors).
 */
export const REDACT_PATHS: readonly string[] = [
  'webhook_url',
  'webhookUrl',
  '*.webhook_url',
  '*.webhookUrl',
  '*.*.webhook_url',
  'token',
  '*.token',
  '*.*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'credentials',
  '*.credentials',
  'secret',
  '*.secret',
  'url_with_credentials',
];

export interface LoggerSettings {
  readonly level: string;
  /** Force pretty output; by default it is used only when stdout is a TTY. */
  readonly pretty?: boolean;
  /** Destination stream for tests; defaults to stdout. */
  readonly destination?: NodeJS.WritableStream;
}

const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi;
// A mistyped URL (no scheme, `redis//`, `redis:/`) still carries `user:password@`.
const BARE_CREDENTIALS = /:[^\s/@"':]+@/g;
// With or without its scheme: a webhook URL pasted without `https://` is still the secret.
// The path must start like a real one (`services/T…`), so a placeholder `services/...` in help stays.
const SLACK_WEBHOOK = /(?:https?:\/\/)?hooks\.slack\.com\/[a-z]+\/[a-z0-9][^\s"']*/gi;

/** Scrubs credentials embedded in free text (URLs with user:password@, Slack webhook URLs). */
export function scrubSecrets(text: string): string {
  return text
    .replace(SLACK_WEBHOOK, '<secret>')
    .replace(URL_CREDENTIALS, '$1<secret>@')
    .replace(BARE_CREDENTIALS, ':<secret>@');
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'vigil' },
    redact: { paths: [...REDACT_PATHS], censor: '<secret>' },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      // Messages are static by convention, but an error message may quote a URL with credentials.
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
    serializers: {
      err: (error: unknown) => {
        const serialized = pino.stdSerializers.err(error as Error);
        if (serialized && typeof serialized.message === 'string')
          serialized.message = scrubSecrets(serialized.message);
        if (serialized && typeof serialized.stack === 'string')
          serialized.stack = scrubSecrets(serialized.stack);
        return serialized;
      },
    },
  };
  const usePretty = settings.pretty ?? (settings.destination === undefined && process.stdout.isTTY === true);
  if (usePretty && prettyAvailable()) {
    // pino-pretty is a dev dependency: loaded only for humans at a terminal, via a worker transport.
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  const destination = settings.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(options, destination as pino.DestinationStream);
}

function prettyAvailable(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    // Production images omit dev dependencies: fall back to JSON rather than failing at start.
    return false;
  }
}
