import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultInjector } from './faults.js';
import { errorBody, HttpError, type Json, type Reply, type Route } from './http.js';
import type { RequestLog } from './request-log.js';

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface EmulatorServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * One HTTP server for every emulated API. Each request: match a route (else 501, never a fake
 * success), apply an injected fault if one fires, run the handler, log the outcome.
 */
export async function startEmulatorServer(options: {
  readonly port: number;
  readonly routes: readonly Route[];
  readonly faults: FaultInjector;
  readonly log: RequestLog;
}): Promise<EmulatorServer> {
  const closing = new AbortController();
  const server = createServer((request, response) => {
    void serve(request, response, options, closing.signal);
  });
  // The Google clients keep connections alive and reuse them after seconds of idleness. Google's
  // front ends keep idle connections for minutes; a short timeout here races with that reuse
  // (the server closes as the client writes: ECONNRESET on every few-second tick). close() ends
  // every connection itself.
  server.keepAliveTimeout = 65_000;
  await listen(server, options.port);
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () => {
      closing.abort();
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  options: { routes: readonly Route[]; faults: FaultInjector; log: RequestLog },
  closing: AbortSignal,
): Promise<void> {
  const started = performance.now();
  const receivedAt = Date.now();
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const method = request.method ?? 'GET';
  const match = findRoute(options.routes, method, url.pathname);
  const arrival = options.log.begin(match?.route.id ?? 'unknown', receivedAt);
  let reply: Reply;
  let fault: string | undefined;
  const signal = AbortSignal.any([closing, abortOnClose(response)]);
  try {
    if (!match) {
      reply = unknownRequest(method, url);
    } else {
      const hit = options.faults.check(match.route.id, match.route.target?.(match.params));
      if (hit) fault = hit.rule;
      // A late-landing call keeps going when its client leaves (its body read first, while the
      // connection is there); only the server's close stops it.
      const early = hit?.landLate ? await readBody(request) : undefined;
      if (hit && hit.latencyMs > 0) await sleep(hit.latencyMs, hit.landLate ? closing : signal);
      if (hit?.status !== undefined) {
        reply = {
          status: hit.status,
          body: errorBody(match.route.dialect, hit.status, hit.message),
          ...(hit.retryAfterS === undefined ? {} : { headers: { 'retry-after': String(hit.retryAfterS) } }),
        };
      } else {
        const body = hit?.landLate ? early : await readBody(request);
        reply = await match.route.handle({
          method,
          url,
          params: match.params,
          body,
          signal: hit?.landLate ? closing : signal,
        });
      }
    }
  } catch (error) {
    reply = failure(error, match?.route.dialect ?? 'sandbox');
  }
  if (!response.writableEnded && !response.destroyed) {
    const text = JSON.stringify(reply.body);
    response.writeHead(reply.status, { ...reply.headers, 'content-type': 'application/json; charset=utf-8' });
    response.end(text);
  }
  options.log.done(arrival);
  options.log.add({
    method,
    path: url.pathname,
    route: match?.route.id ?? 'unknown',
    status: reply.status,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    receivedAt,
    ...(fault ? { fault } : {}),
  });
}

function findRoute(routes: readonly Route[], method: string, path: string) {
  for (const route of routes) {
    if (route.method !== method) continue;
    const found = route.pattern.exec(path);
    if (found) return { route, params: { ...found.groups } };
  }
  return undefined;
}

function unknownRequest(method: string, url: URL): Reply {
  const dialect = url.pathname.startsWith('/bigquery/')
    ? 'bigquery'
    : url.pathname.startsWith('/v2/')
      ? 'run'
      : 'sandbox';
  const message = `the vigil sandbox does not emulate ${method} ${url.pathname}; see docs/sandbox.md for the supported endpoints`;
  return { status: 501, body: errorBody(dialect, 501, message) };
}

function failure(error: unknown, dialect: Route['dialect']): Reply {
  if (error instanceof HttpError)
    return { status: error.status, body: errorBody(dialect, error.status, error.message, error.reason) };
  if (error instanceof DOMException && error.name === 'AbortError')
    return { status: 499, body: errorBody(dialect, 499, 'request cancelled') };
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: errorBody(dialect, 500, `sandbox internal error: ${message}`) };
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

function abortOnClose(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** A delay that ends early (rejecting) when the client leaves or the server closes. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
