import { isVigilError, PermanentError, TransientError, type VigilError } from '../core/errors.js';
import { explainFailure, failureKind, type GcpCallSite } from './explain.js';

/**
 * Classifies a failure of a Google API call. The clients' own retries are off, so this is where
 * "try again later" is decided: 429, 5xx, connection failures and timeouts are transient;
 * other 4xx and failed operations are permanent. 501 is permanent too: an endpoint that is not
 * implemented (the sandbox's answer to an unsupported call) will not start working on retry.
 */
const TRANSIENT_NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

/** google.rpc.Code values (operation errors carry these instead of HTTP statuses). */
const TRANSIENT_RPC = new Set([4, 8, 10, 13, 14]); // DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE
const RPC_TO_HTTP: Readonly<Record<number, number>> = { 3: 400, 5: 404, 6: 409, 7: 403, 9: 400, 16: 401 };

export function classifyGcpError(error: unknown, what: string, site?: GcpCallSite): VigilError {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  const classified = classifyRaw(error, what);
  if (!site) return classified;
  const status = (error as { code?: unknown } | null)?.code;
  const kind = failureKind(
    networkCode(error) ?? tlsCode(error),
    typeof status === 'number' && status >= 100
      ? status
      : status === 7
        ? 403
        : status === 16
          ? 401
          : undefined,
    errorText(error),
  );
  if (!kind) return classified;
  // Missing credentials will not appear by retrying; everything else keeps its class.
  const Kind =
    kind === 'no-credentials'
      ? PermanentError
      : classified instanceof TransientError
        ? TransientError
        : PermanentError;
  const code = kind === 'no-credentials' ? 'gcp-no-credentials' : classified.code;
  return new Kind(`${classified.message} — ${explainFailure(kind, site)}`, { cause: error, code });
}

function classifyRaw(error: unknown, what: string): VigilError {
  const network = networkCode(error);
  if (network) return new TransientError(`${what}: ${network}`, { cause: error, code: 'gcp-unreachable' });
  if (isTimeout(error))
    return new TransientError(`${what}: timed out`, { cause: error, code: 'gcp-timeout' });
  const code = (error as { code?: unknown } | null)?.code;
  const message = firstLine(error);
  if (typeof code === 'number' && code >= 100)
    return byHttpStatus(code, `${what}: HTTP ${code} ${message}`, error);
  if (typeof code === 'number') {
    if (TRANSIENT_RPC.has(code))
      return new TransientError(`${what}: rpc ${code} ${message}`, { cause: error, code: 'gcp-unavailable' });
    return byHttpStatus(RPC_TO_HTTP[code] ?? 400, `${what}: rpc ${code} ${message}`, error);
  }
  return new PermanentError(`${what}: ${message}`, { cause: error, code: 'gcp-failed' });
}

function byHttpStatus(status: number, message: string, cause: unknown): VigilError {
  if (status === 429) return new TransientError(message, { cause, code: 'gcp-rate-limited' });
  if (status === 408) return new TransientError(message, { cause, code: 'gcp-timeout' });
  if (status === 501) return new PermanentError(message, { cause, code: 'gcp-unimplemented' });
  if (status >= 500) return new TransientError(message, { cause, code: 'gcp-unavailable' });
  if (status === 404) return new PermanentError(message, { cause, code: 'gcp-not-found' });
  if (status === 401 || status === 403) return new PermanentError(message, { cause, code: 'gcp-denied' });
  if (status === 409) return new PermanentError(message, { cause, code: 'gcp-conflict' });
  return new PermanentError(message, { cause, code: 'gcp-invalid' });
}

/** Finds a socket error code anywhere in the cause chain (gaxios and fetch wrap them). */
function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_NETWORK.has(code)) return code;
    const message = current instanceof Error ? current.message : '';
    const inMessage = [...TRANSIENT_NETWORK].find((name) => message.includes(name));
    if (inMessage) return inMessage;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A TLS failure's code (CERT_HAS_EXPIRED, SELF_SIGNED_CERT_IN_CHAIN, ...) anywhere in the cause chain. */
function tlsCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Every message in the cause chain, for matching. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    parts.push(current instanceof Error ? current.message : String(current));
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(' | ');
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').slice(0, 300);
}

/**
 * Bounds a call by a timeout and the caller's signal. The Google clients cannot all be
 * cancelled mid-flight, so the call may finish in the background; its result is dropped.
 */
export async function bounded<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
  site?: GcpCallSite,
): Promise<T> {
  const deadline = signal
    ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
    : AbortSignal.timeout(timeoutMs);
  if (deadline.aborted)
    throw new TransientError(`${what}: aborted before start`, {
      code: 'gcp-timeout',
      cause: deadline.reason,
    });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () =>
      reject(
        new TransientError(`${what}: no answer within ${timeoutMs} ms or aborted`, {
          code: 'gcp-timeout',
          cause: deadline.reason,
        }),
      );
    deadline.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work(), aborted]);
  } catch (error) {
    if (
      site?.credentialsMissing &&
      !(error instanceof TransientError && deadline.aborted) &&
      (await site.credentialsMissing())
    )
      throw new PermanentError(`${what}: ${explainFailure('no-credentials', site)}`, {
        cause: error,
        code: 'gcp-no-credentials',
      });
    throw classifyGcpError(error, what, site);
  } finally {
    if (onAbort) deadline.removeEventListener('abort', onAbort);
  }
}

/** When a 429 carries no usable Retry-After, wait this long before the next attempt. */
export const DEFAULT_RETRY_AFTER_MS = 10_000;

/** True for a platform answer of "too many requests" (HTTP 429 / RESOURCE_EXHAUSTED). */
export function isRateLimited(error: unknown): boolean {
  return isVigilError(error) && error.code === 'gcp-rate-limited';
}

/**
 * How long the platform asked us to wait: the `Retry-After` header (seconds or an HTTP date)
 * found anywhere in the cause chain, bounded to [1 s, 1 h]; the default when there is none.
 */
export function retryAfterMs(error: unknown, now = Date.now()): number {
  for (let current = error, depth = 0; current && depth < 6; depth++) {
    const headers = (current as { response?: { headers?: unknown } }).response?.headers;
    const raw = headerValue(headers, 'retry-after');
    if (raw !== undefined) {
      const seconds = Number(raw);
      const ms = Number.isFinite(seconds) ? seconds * 1_000 : Date.parse(raw) - now;
      if (Number.isFinite(ms)) return Math.min(3_600_000, Math.max(1_000, ms));
    }
    current = (current as { cause?: unknown }).cause;
  }
  return DEFAULT_RETRY_AFTER_MS;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') return (get.call(headers, name) as string | null) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}
