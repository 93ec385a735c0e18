/**
 * The emulator's HTTP vocabulary: routes declare an id (used by faults and the request log), a
 * dialect (how errors are shaped for that API's clients) and a handler returning a reply.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Dialect = 'bigquery' | 'run' | 'sandbox';

export interface RouteRequest {
  readonly method: string;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** Aborted when the client goes away or the server closes. */
  readonly signal: AbortSignal;
}

export interface Reply {
  readonly status: number;
  readonly body: Json;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Route {
  readonly id: string;
  readonly method: string;
  readonly pattern: RegExp;
  readonly dialect: Dialect;
  /** Names the target of a request for fault matching (service, job, table). */
  readonly target?: (params: Readonly<Record<string, string>>) => string | undefined;
  readonly handle: (request: RouteRequest) => Promise<Reply>;
}

/** A failure a handler wants answered as an API error of its dialect. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** BigQuery `errors[].reason` or a google.rpc status name for Run. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

const RPC_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const BIGQUERY_REASON: Readonly<Record<number, string>> = {
  400: 'invalidQuery',
  403: 'accessDenied',
  404: 'notFound',
  429: 'rateLimitExceeded',
  500: 'backendError',
  501: 'notImplemented',
  503: 'backendError',
};

/** Renders an error the way that API's real backend does, so real clients raise real errors. */
export function errorBody(dialect: Dialect, status: number, message: string, reason?: string): Json {
  const rpc = RPC_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  if (dialect === 'bigquery') {
    const bqReason = reason ?? BIGQUERY_REASON[status] ?? (status >= 500 ? 'backendError' : 'invalid');
    return {
      error: {
        code: status,
        message,
        errors: [{ reason: bqReason, message, domain: 'global' }],
        status: rpc,
      },
    };
  }
  return { error: { code: status, message, status: reason ?? rpc } };
}

export function json(status: number, body: Json): Reply {
  return { status, body };
}
