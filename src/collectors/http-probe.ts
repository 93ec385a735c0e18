import { z } from 'zod';
import { duration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import type { Sample } from '../core/types.js';
import type { CollectContext, CollectorDefinition, CollectProblem, CollectResult } from './types.js';

const target = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected a target name of lowercase letters, digits, ".", "_" or "-"'),
  url: z.url({ protocol: /^https?$/ }),
  labels: z.record(z.string(), z.string()).default({}),
});

const options = z.strictObject({
  targets: z.array(target).min(1),
  method: z.enum(['GET', 'HEAD']).default('GET'),
  timeout: duration.default(5_000),
  /** Highest status code still counted as up. */
  max_ok_status: z.number().int().min(100).max(599).default(399),
});

export type HttpProbeOptions = z.output<typeof options>;

/**
 * Probes HTTP endpoints. Emits per target `probe_up` (0/1), `probe_latency_ms` and
 * `probe_status_code` (0 when no response). One failing or hanging target never hides the
 * others: every target runs concurrently with its own timeout.
 */
export const httpProbe: CollectorDefinition<HttpProbeOptions> = {
  kind: 'http-probe',
  summary: 'HTTP GET/HEAD health probes: up, latency and status code per target',
  options,
  create(settings) {
    return {
      metrics: ['probe_up', 'probe_latency_ms', 'probe_status_code'],
      collect: (ctx) => probeAll(settings, ctx),
    };
  },
};

async function probeAll(settings: HttpProbeOptions, ctx: CollectContext): Promise<CollectResult> {
  const results = await Promise.all(settings.targets.map((t) => probeOne(t, settings, ctx)));
  return {
    samples: results.flatMap((result) => result.samples),
    problems: results.flatMap((result) => (result.problem ? [result.problem] : [])),
    statuses: [],
  };
}

async function probeOne(
  probe: z.output<typeof target>,
  settings: HttpProbeOptions,
  ctx: CollectContext,
): Promise<{ samples: Sample[]; problem?: CollectProblem }> {
  const labels = { target: probe.name, ...probe.labels };
  const timestamp = ctx.clock.now();
  const started = performance.now();
  let status = 0;
  let failure: string | undefined;
  try {
    const response = await fetch(probe.url, {
      method: settings.method,
      redirect: 'manual',
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(settings.timeout)]),
    });
    status = response.status;
    await response.body?.cancel();
    if (status > settings.max_ok_status) failure = `HTTP ${status}`;
  } catch (error) {
    failure =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no response within ${settings.timeout} ms`
        : errorMessage(error);
  }
  const latency = performance.now() - started;
  const sample = (metric: string, value: number): Sample => ({ metric, labels, timestamp, value });
  const samples = [
    sample('probe_up', failure ? 0 : 1),
    sample('probe_latency_ms', latency),
    sample('probe_status_code', status),
  ];
  if (!failure) return { samples };
  return {
    samples,
    problem: { kind: 'target-failed', target: probe.name, message: `${probe.name} is down: ${failure}` },
  };
}
