import { z } from 'zod';
import { type FaultInjector, faultSpec } from './faults.js';
import { HttpError, type Json, type Route } from './http.js';
import type { RequestLog } from './request-log.js';
import type { HealthMode } from './run/model.js';
import { sleep } from './server.js';
import type { SandboxState } from './state.js';

/** What the control API drives; implemented by the running sandbox. */
export interface Controller {
  state(): SandboxState;
  advanceDays(days: number): Promise<SandboxState>;
  advanceTo(dayOrDate: number | string): Promise<SandboxState>;
  reset(): Promise<SandboxState>;
  health(service: string): { mode: HealthMode; revision: string | undefined };
  readonly faults: FaultInjector;
  readonly log: RequestLog;
}

const advanceRequest = z.union([
  z.strictObject({ days: z.number().int().min(0).max(366) }),
  z.strictObject({ to: z.union([z.number().int().min(0), z.string()]) }),
]);

/** How long a "timeout" health answer holds the connection before giving up with a 504. */
const HEALTH_HANG_MS = 60_000;

const json = (body: unknown): Json => JSON.parse(JSON.stringify(body)) as Json;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(
      400,
      `invalid request: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

export function controlRoutes(controller: Controller): Route[] {
  const route = (id: string, method: string, path: string, handle: Route['handle']): Route => ({
    id,
    method,
    pattern: new RegExp(`^/sandbox${path}$`),
    dialect: 'sandbox',
    handle,
  });
  const ok = (body: unknown) => ({ status: 200, body: json(body) });
  return [
    route('sandbox.state', 'GET', '/state', async () => ok(controller.state())),
    route('sandbox.advance', 'POST', '/advance', async (request) => {
      const body = parse(advanceRequest, request.body);
      try {
        return ok(
          'days' in body ? await controller.advanceDays(body.days) : await controller.advanceTo(body.to),
        );
      } catch (error) {
        if (error instanceof RangeError) throw new HttpError(400, error.message);
        throw error;
      }
    }),
    route('sandbox.reset', 'POST', '/reset', async () => ok(await controller.reset())),
    route('sandbox.faults.list', 'GET', '/faults', async () => ok({ faults: controller.faults.list() })),
    route('sandbox.faults.add', 'POST', '/faults', async (request) =>
      ok(controller.faults.add(parse(faultSpec, request.body))),
    ),
    route('sandbox.faults.clear', 'DELETE', '/faults', async () => {
      controller.faults.clear();
      return ok({ faults: [] });
    }),
    route('sandbox.requests', 'GET', '/requests', async (request) =>
      ok({ requests: controller.log.since(Number(request.url.searchParams.get('after') ?? '0')) }),
    ),
    route('sandbox.requests.clear', 'DELETE', '/requests', async () => {
      controller.log.clear();
      return ok({ requests: [] });
    }),
    {
      id: 'sandbox.healthz',
      method: 'GET',
      pattern: /^\/sandbox\/services\/(?<service>[^/]+)\/healthz$/,
      dialect: 'sandbox',
      target: (params) => params.service,
      handle: async (request) => {
        const service = request.params.service as string;
        let health: ReturnType<Controller['health']>;
        try {
          health = controller.health(service);
        } catch {
          throw new HttpError(404, `no simulated service named ${service}`);
        }
        const body = { service, revision: health.revision ?? null, status: health.mode };
        if (health.mode === 'ok') return ok(body);
        if (health.mode === 'error')
          return { status: 500, body: json({ ...body, error: 'worker wedged: request queue stalled' }) };
        // "timeout": hold the connection until the prober gives up (or the sandbox closes).
        await sleep(HEALTH_HANG_MS, request.signal);
        return { status: 504, body: json(body) };
      },
    },
  ];
}
