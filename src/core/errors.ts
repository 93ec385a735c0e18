/**
 * vigil's error hierarchy. Plugins classify a failure; the runtime decides what to do with it
 * (retry, give up, report). Every error carries a stable kebab-case `code` that logs, metrics
 * and tests match on, never the message text.
 */
export type ErrorKind = 'config' | 'transient' | 'permanent';

export interface VigilErrorOptions {
  readonly cause?: unknown;
  /** Stable kebab-case code; defaults to the kind. */
  readonly code?: string;
}

export abstract class VigilError extends Error {
  abstract readonly kind: ErrorKind;
  readonly code: string;

  constructor(message: string, options: VigilErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'error';
  }
}

/** Bad input from a human: config, policy or CLI arguments. Never retried; exit code 2. */
export class ConfigError extends VigilError {
  readonly kind = 'config';
  /** Every problem found, each already located (`file:line path: message`). */
  readonly problems: readonly string[];

  constructor(message: string, problems: readonly string[] = [], options: VigilErrorOptions = {}) {
    super(message, { code: 'config-invalid', ...options });
    this.problems = problems;
  }
}

/** A failure that may succeed if tried again later (timeouts, 5xx, 429, connection refused). */
export class TransientError extends VigilError {
  readonly kind = 'transient';

  constructor(message: string, options: VigilErrorOptions = {}) {
    super(message, { code: 'transient', ...options });
  }
}

/** A failure that will not go away by retrying (403, 404, invalid request, unknown commit). */
export class PermanentError extends VigilError {
  readonly kind = 'permanent';

  constructor(message: string, options: VigilErrorOptions = {}) {
    super(message, { code: 'permanent', ...options });
  }
}

export function isVigilError(error: unknown): error is VigilError {
  return error instanceof VigilError;
}

/** Message of any thrown value, for logs and one-line reasons. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
