import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { HttpError, type Json, type Reply, type Route, type RouteRequest } from '../http.js';
import { columnsFor, encodeRows, type Field } from './encode.js';
import { bindParameters, queryParameter } from './params.js';
import { translateSql } from './translate.js';

/**
 * BigQuery jobs.query and getQueryResults over DuckDB. Results are kept per job so a client can
 * page through them; only read-only queries run (the scenario owns the data).
 */
export interface BigQueryBackend {
  readonly project: string;
  readonly connection: () => DuckDBConnection;
  /** Simulated now, epoch ms (CURRENT_DATE() and friends). */
  readonly now: () => number;
}

interface StoredResult {
  readonly fields: readonly Field[];
  readonly rows: readonly Json[];
}

const queryRequest = z.object({
  query: z.string().min(1),
  useLegacySql: z.boolean().optional(),
  maxResults: z.number().int().min(0).optional(),
  dryRun: z.boolean().optional(),
  queryParameters: z.array(queryParameter).optional(),
  formatOptions: z.object({ useInt64Timestamp: z.boolean().optional() }).optional(),
});

const MAX_STORED_RESULTS = 64;
/** Statements that would change the scenario's data or DuckDB itself. */
const WRITES =
  /^\s*\(?\s*(INSERT|UPDATE|DELETE|MERGE|CREATE|DROP|ALTER|TRUNCATE|ATTACH|DETACH|COPY|EXPORT|IMPORT|INSTALL|LOAD|SET|RESET|PRAGMA|CALL|USE|BEGIN|COMMIT|ROLLBACK|CHECKPOINT|VACUUM|DECLARE|EXECUTE)\b/i;
const PROJECT = '(?<project>[^/]+)';

export function bigQueryRoutes(backend: BigQueryBackend): Route[] {
  const results = new Map<string, StoredResult>();
  let jobs = 0;
  const store = (result: StoredResult): string => {
    jobs += 1;
    const jobId = `job_sandbox_${String(jobs).padStart(6, '0')}`;
    results.set(jobId, result);
    // Oldest first out: a result is only needed while its client pages through it.
    if (results.size > MAX_STORED_RESULTS) results.delete(results.keys().next().value as string);
    return jobId;
  };
  const checkProject = (request: RouteRequest) => {
    if (request.params.project !== backend.project) {
      throw new HttpError(404, `Not found: Project ${request.params.project}`, 'notFound');
    }
  };
  return [
    {
      id: 'bigquery.query',
      method: 'POST',
      pattern: new RegExp(`^/bigquery/v2/projects/${PROJECT}/queries$`),
      dialect: 'bigquery',
      handle: async (request) => {
        checkProject(request);
        const parsed = queryRequest.safeParse(request.body);
        if (!parsed.success)
          throw new HttpError(
            400,
            `Invalid jobs.query request: ${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''}`,
            'invalid',
          );
        const body = parsed.data;
        if (body.useLegacySql === true)
          throw new HttpError(501, 'the sandbox only runs standard SQL (useLegacySql must be false)');
        if (body.dryRun === true) throw new HttpError(501, 'the sandbox does not support dry runs');
        const int64 = body.formatOptions?.useInt64Timestamp ?? false;
        const result = await runQuery(backend, body.query, body.queryParameters ?? [], int64);
        const jobId = store(result);
        return page(backend.project, jobId, result, 0, body.maxResults, 'bigquery#queryResponse');
      },
    },
    {
      id: 'bigquery.getQueryResults',
      method: 'GET',
      pattern: new RegExp(`^/bigquery/v2/projects/${PROJECT}/queries/(?<job>[^/]+)$`),
      dialect: 'bigquery',
      handle: async (request) => {
        checkProject(request);
        const jobId = request.params.job as string;
        const result = results.get(jobId);
        if (!result) throw new HttpError(404, `Not found: Job ${backend.project}:US.${jobId}`, 'notFound');
        const search = request.url.searchParams;
        const start = Number(search.get('pageToken') ?? search.get('startIndex') ?? '0');
        const max = search.has('maxResults') ? Number(search.get('maxResults')) : undefined;
        return page(backend.project, jobId, result, start, max, 'bigquery#getQueryResultsResponse');
      },
    },
  ];
}

async function runQuery(
  backend: BigQueryBackend,
  query: string,
  parameters: z.infer<typeof queryParameter>[],
  int64Timestamp: boolean,
): Promise<StoredResult> {
  const translation = translateSql(query, { project: backend.project, nowMs: backend.now() });
  if (WRITES.test(translation.sql)) {
    throw new HttpError(501, 'the sandbox runs read-only queries; DML, DDL and scripts are not emulated');
  }
  const bound = bindParameters(parameters, translation.parameters);
  try {
    const reader = await backend.connection().runAndReadAll(translation.sql, bound.values, bound.types);
    const columns = columnsFor(reader.columnNames(), reader.columnTypes(), int64Timestamp);
    return { fields: columns.map((column) => column.field), rows: encodeRows(reader.getRows(), columns) };
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw classifyDuckDbError(error, backend.project);
  }
}

/** Unknown table or dataset → 404 notFound (as BigQuery answers); any other SQL error → 400 invalidQuery. */
function classifyDuckDbError(error: unknown, project: string): HttpError {
  const message = error instanceof Error ? error.message : String(error);
  const table = /Table with name "?([\w.]+?)"? does not exist/.exec(message);
  if (table) {
    const name = table[1] as string;
    return new HttpError(
      404,
      `Not found: Table ${project}:${name} was not found in location US (${message.split('\n')[0]})`,
      'notFound',
    );
  }
  return new HttpError(400, message, 'invalidQuery');
}

function page(
  project: string,
  jobId: string,
  result: StoredResult,
  start: number,
  maxResults: number | undefined,
  kind: string,
): Reply {
  const end =
    maxResults === undefined || maxResults === 0
      ? result.rows.length
      : Math.min(result.rows.length, start + maxResults);
  const rows = result.rows.slice(start, end);
  const body: Record<string, Json> = {
    kind,
    jobReference: { projectId: project, jobId, location: 'US' },
    schema: { fields: result.fields.map((field) => ({ ...field })) },
    totalRows: String(result.rows.length),
    totalBytesProcessed: '0',
    jobComplete: true,
    cacheHit: false,
  };
  if (rows.length > 0) body.rows = rows;
  if (end < result.rows.length) body.pageToken = String(end);
  return { status: 200, body };
}
