import { HttpError, type Json, type Route, type RouteRequest } from '../http.js';
import type { ServiceRecord } from './model.js';
import { RunApiError, type RunPlatform } from './platform.js';
import {
  checkEtag,
  parseRunArgs,
  parseServicePatch,
  renderExecution,
  renderJob,
  renderOperation,
  renderRevision,
  renderService,
} from './wire.js';

/**
 * Cloud Run Admin API v2 (REST) routes: services get/list/patch, revisions list/get, jobs
 * get/run, executions get, operations get. Paths are checked against the sandbox's project and
 * region so a misconfigured client fails here as it would in GCP.
 */
export function runRoutes(current: () => RunPlatform, project: string, region: string): Route[] {
  const parent = `projects/${project}/locations/${region}`;
  const base = '^/v2/projects/(?<project>[^/]+)/locations/(?<location>[^/]+)';
  const route = (
    id: string,
    method: string,
    path: string,
    handle: (request: RouteRequest, platform: RunPlatform) => Json | Promise<Json>,
    target?: string,
  ): Route => ({
    id,
    method,
    pattern: new RegExp(`${base}${path}$`),
    dialect: 'run',
    ...(target ? { target: (params: Readonly<Record<string, string>>) => params[target] } : {}),
    handle: async (request) => {
      if (request.params.project !== project || request.params.location !== region) {
        throw new HttpError(
          404,
          `Location ${request.params.location} in project ${request.params.project} is not served by this sandbox (${parent})`,
        );
      }
      try {
        return { status: 200, body: await handle(request, current()) };
      } catch (error) {
        if (error instanceof RunApiError)
          throw new HttpError(error.httpStatus, error.message, error.rpcStatus);
        throw error;
      }
    },
  });
  const service = (request: RouteRequest, platform: RunPlatform): ServiceRecord =>
    platform.getService(request.params.service as string);
  const operationJson = (platform: RunPlatform, id: string): Json => {
    const operation = platform.operations.get(id);
    if (!operation) throw new RunApiError(404, 'NOT_FOUND', `Operation ${parent}/operations/${id} not found`);
    return renderOperation(parent, operation, () => {
      if (operation.kind === 'service') return renderService(parent, platform.getService(operation.target));
      const [job, execution] = operation.target.split('/') as [string, string];
      const record = platform.getJob(job).executions.find((item) => item.id === execution);
      return record ? renderExecution(parent, record) : null;
    });
  };
  return [
    route('run.services.list', 'GET', '/services', (_request, platform) => ({
      services: [...platform.services.values()].map((item) => renderService(parent, item)),
    })),
    route(
      'run.services.get',
      'GET',
      '/services/(?<service>[^/:]+)',
      (request, platform) => renderService(parent, service(request, platform)),
      'service',
    ),
    route(
      'run.services.patch',
      'PATCH',
      '/services/(?<service>[^/:]+)',
      (request, platform) => {
        const current = service(request, platform);
        checkEtag(request.body, current.generation);
        const patch = parseServicePatch(request.body, current.template);
        const operation = platform.updateService(current.name, patch, 'vigil@sandbox');
        return operationJson(platform, operation.id);
      },
      'service',
    ),
    route(
      'run.revisions.list',
      'GET',
      '/services/(?<service>[^/:]+)/revisions',
      (request, platform) => ({
        revisions: [...service(request, platform).revisions]
          .reverse()
          .map((item) => renderRevision(parent, item)),
      }),
      'service',
    ),
    route(
      'run.revisions.get',
      'GET',
      '/services/(?<service>[^/:]+)/revisions/(?<revision>[^/:]+)',
      (request, platform) => {
        const found = service(request, platform).revisions.find(
          (item) => item.id === request.params.revision,
        );
        if (!found) throw new RunApiError(404, 'NOT_FOUND', `Revision ${request.params.revision} not found`);
        return renderRevision(parent, found);
      },
      'service',
    ),
    route(
      'run.jobs.get',
      'GET',
      '/jobs/(?<job>[^/:]+)',
      (request, platform) => renderJob(parent, platform.getJob(request.params.job as string)),
      'job',
    ),
    route(
      'run.jobs.run',
      'POST',
      '/jobs/(?<job>[^/:]+):run',
      (request, platform) => {
        const job = platform.getJob(request.params.job as string);
        const args = parseRunArgs(request.body) ?? job.template.containers[0]?.args ?? [];
        const { operation } = platform.runJob(job.name, args);
        return operationJson(platform, operation.id);
      },
      'job',
    ),
    route(
      'run.executions.get',
      'GET',
      '/jobs/(?<job>[^/:]+)/executions/(?<execution>[^/:]+)',
      (request, platform) => {
        const found = platform
          .getJob(request.params.job as string)
          .executions.find((item) => item.id === request.params.execution);
        if (!found)
          throw new RunApiError(404, 'NOT_FOUND', `Execution ${request.params.execution} not found`);
        return renderExecution(parent, found);
      },
      'job',
    ),
    route('run.operations.get', 'GET', '/operations/(?<operation>[^/:]+)', async (request, platform) => {
      await platform.settleDue(Date.now());
      return operationJson(platform, request.params.operation as string);
    }),
  ];
}
