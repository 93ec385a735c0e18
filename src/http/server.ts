import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.js';
import { gauge, type MetricsRegistry } from '../core/metrics.js';

/** A named readiness condition: resolves to null when satisfied, or a one-line reason when not. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<string | null>;
}

export interface HttpSettings {
  readonly host: string;
  readonly port: number;
}

export interface HttpDeps {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly readiness: () => readonly ReadinessCheck[];
  /** The status API and page (src/http/api.ts): answers true when it served the request. */
  readonly routes?: (url: URL, response: ServerResponse) => Promise<boolean>;
}

export interface RunningHttpServer {
  readonly url: string;
  /** Stops accepting connections, lets in-flight requests end, drops idle keep-alive sockets. */
  close(): Promise<void>;
}

/**
 * GET /healthz (the process is alive), GET /readyz (every readiness check passes; 503 with
 * the reasons otherwise), GET /metrics (Prometheus text), and the status API and page when
 * `routes` is given. Read-only: nothing but GET and HEAD is served.
 */
export async function startHttpServer(settings: HttpSettings, deps: HttpDeps): Promise<RunningHttpServer> {
  readyGauge(deps);
  const server = createServer((request, response) => {
    route(request, response, deps).catch((error: unknown) => {
      deps.logger.error({ err: error, path: request.url }, 'http handler failed');
      if (!response.headersSent) send(response, 500, { status: 'error' });
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await listen(server, settings);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  deps.logger.info({ url }, 'http listening');
  return { url, close: () => closeServer(server) };
}

async function route(request: IncomingMessage, response: ServerResponse, deps: HttpDeps): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return send(response, 405, { error: 'method not allowed' });
  if (path === '/healthz') return send(response, 200, { status: 'ok' });
  if (path === '/readyz') return readyz(response, deps.readiness());
  if (path === '/metrics') {
    const body = await deps.metrics.metrics();
    response.writeHead(200, { 'content-type': deps.metrics.contentType });
    response.end(body);
    return;
  }
  if (deps.routes && (await deps.routes(url, response))) return;
  send(response, 404, { error: 'not found', endpoints: ['/healthz', '/readyz', '/metrics'] });
}

/** `vigil_ready`: what /readyz says, for Prometheus (the not-ready alert), checked at each scrape. */
function readyGauge(deps: HttpDeps): void {
  const ready = gauge(deps.metrics, {
    name: 'vigil_ready',
    help: '1 when every readiness check passes (as /readyz), else 0',
  });
  Object.assign(ready, {
    collect: async () => {
      const results = await Promise.all(
        deps.readiness().map((c) => c.check().catch((e: Error) => e.message)),
      );
      ready.set(results.every((reason) => reason === null) ? 1 : 0);
    },
  });
}

async function readyz(response: ServerResponse, checks: readonly ReadinessCheck[]): Promise<void> {
  const results = await Promise.all(
    checks.map(async (check) => ({
      name: check.name,
      reason: await check.check().catch((e: Error) => e.message),
    })),
  );
  const failing = results.filter((result) => result.reason !== null);
  if (failing.length === 0) return send(response, 200, { status: 'ready' });
  const reasons = Object.fromEntries(failing.map((result) => [result.name, result.reason]));
  send(response, 503, { status: 'not-ready', reasons });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(body)}\n`);
}

function listen(server: Server, settings: HttpSettings): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
