import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { auditTrail } from '../status/audit-trail.js';
import type { StatusReader } from '../status/read-model.js';
import type { SeriesViews } from '../status/series.js';
import { decisionsByFinding } from '../status/timeline.js';

/**
 * The status API (read-only JSON) and the status page, served by vigil's HTTP server:
 * GET /api/status, /api/findings, /api/series[?key=…&since=…], /api/remediations,
 * /api/audit?finding=…, and the page at `/` with its assets (uPlot from the installed package:
 * nothing is fetched from anywhere at run time).
 */
export interface ApiDeps {
  readonly reader: StatusReader;
  readonly series: SeriesViews;
  /** The audit directory (every replica file in it is read and verified). */
  readonly auditDir: string;
}

const require = createRequire(import.meta.url);
const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const ASSETS: Readonly<Record<string, { file: () => string; type: string }>> = {
  '/': { file: () => `${PAGE_DIR}index.html`, type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: () => `${PAGE_DIR}app.js`, type: 'text/javascript; charset=utf-8' },
  '/assets/style.css': { file: () => `${PAGE_DIR}style.css`, type: 'text/css; charset=utf-8' },
  '/assets/uPlot.js': {
    file: () => require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/assets/uPlot.css': {
    file: () => require.resolve('uplot/dist/uPlot.min.css'),
    type: 'text/css; charset=utf-8',
  },
};

export function createApiRoutes(deps: ApiDeps): (url: URL, response: ServerResponse) => Promise<boolean> {
  return async (url, response) => {
    const asset = ASSETS[url.pathname === '/status' ? '/' : url.pathname];
    if (asset) {
      const body = await readFile(asset.file());
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
      response.end(body);
      return true;
    }
    const answer = await api(url, deps);
    if (answer === undefined) return false;
    response.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(`${JSON.stringify(answer.body)}\n`);
    return true;
  };
}

async function api(url: URL, deps: ApiDeps): Promise<{ status: number; body: unknown } | undefined> {
  const query = url.searchParams;
  switch (url.pathname) {
    case '/api/status':
      return ok(await deps.reader.overview());
    case '/api/findings':
      return ok(await findings(deps.reader));
    case '/api/remediations':
      return ok(await deps.reader.remediations());
    case '/api/audit':
      return ok(await auditTrail(deps.auditDir, query.get('finding') ?? undefined));
    case '/api/series': {
      const key = query.get('key');
      if (!key) return ok({ series: await deps.series.keys() });
      const since = query.get('since');
      const sinceMs = since === null ? undefined : parseTime(since);
      if (sinceMs === null)
        return { status: 400, body: { error: `since: expected epoch ms or an ISO date, got "${since}"` } };
      const view = await deps.series.view(key, sinceMs);
      return view ? ok(view) : { status: 404, body: { error: `no stored series ${key}` } };
    }
    default:
      return undefined;
  }
}

async function findings(reader: StatusReader) {
  const [records, events] = await Promise.all([reader.findingRecords(), reader.events()]);
  const decisions = decisionsByFinding(events);
  return records.map((record) => ({ ...record, decisions: decisions.get(record.id) ?? [] }));
}

function parseTime(text: string): number | null {
  const number = Number(text);
  if (text !== '' && Number.isFinite(number)) return number;
  const date = Date.parse(text);
  return Number.isFinite(date) ? date : null;
}

function ok(body: unknown): { status: number; body: unknown } {
  return { status: 200, body };
}
