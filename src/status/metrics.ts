import { gauge, histogram, type MetricsRegistry } from '../core/metrics.js';
import type { PolicySnapshot } from '../policies/types.js';
import type { StatusReader } from './read-model.js';
import type { StatusOverview } from './types.js';

/**
 * Metrics about vigil from the status read model, computed when Prometheus scrapes (one
 * overview read per scrape, shared by every gauge), so each replica exports the fleet's state
 * from Redis. Label sets are bounded: severities, modes, queue states, and the (kind, target)
 * pairs and collectors of the config and policy.
 */
const MODES = ['auto', 'dry-run', 'notify-only', 'off'] as const;
const SEVERITIES = ['warning', 'critical'] as const;

export function registerStatusMetrics(
  registry: MetricsRegistry,
  reader: StatusReader,
  policy: () => PolicySnapshot | undefined,
): { findingToStart: (seconds: number) => void } {
  let pending: { at: number; overview: Promise<StatusOverview | undefined> } | undefined;
  // One read per scrape: the gauges' collect() run together, within well under a second.
  const overview = (): Promise<StatusOverview | undefined> => {
    const now = Date.now();
    if (!pending || now - pending.at > 1_000)
      pending = { at: now, overview: reader.overview().catch(() => undefined) };
    return pending.overview;
  };
  const define = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: ReturnType<typeof gauge<L>>, state: StatusOverview) => void,
  ) => {
    const metric = gauge(registry, { name, help, labelNames });
    // prom-client calls collect() on every scrape before reading the values.
    Object.assign(metric, {
      collect: async () => {
        const state = await overview();
        metric.reset();
        if (state) fill(metric, state);
      },
    });
  };
  define('vigil_open_findings', 'Open findings by severity', ['severity'], (g, state) => {
    for (const severity of SEVERITIES)
      g.set({ severity }, state.findings.filter((finding) => finding.verdict.severity === severity).length);
  });
  define(
    'vigil_breaker_open',
    'Circuit breaker per remediation kind and target: 1 open, 0 closed',
    ['kind', 'target'],
    (g, state) => {
      for (const budget of state.budgets) g.set({ kind: budget.kind, target: budget.target }, 0);
      for (const breaker of state.breakers) g.set({ kind: breaker.kind, target: breaker.target }, 1);
    },
  );
  define(
    'vigil_remediation_escalated',
    'Targets where automatic runs stopped until a human resets them (1)',
    ['kind', 'target'],
    (g, state) => {
      for (const budget of state.budgets)
        g.set({ kind: budget.kind, target: budget.target }, budget.escalated ? 1 : 0);
    },
  );
  define(
    'vigil_remediation_budget_left',
    'Runs left this hour per remediation kind and target',
    ['kind', 'target'],
    (g, state) => {
      for (const budget of state.budgets)
        if (budget.leftThisHour !== null)
          g.set({ kind: budget.kind, target: budget.target }, budget.leftThisHour);
    },
  );
  define('vigil_remediation_queue_jobs', 'Remediation jobs by state', ['state'], (g, state) => {
    if (!state.queue) return;
    for (const name of ['waiting', 'active', 'delayed', 'failed'] as const)
      g.set({ state: name }, state.queue[name]);
  });
  define(
    'vigil_remediation_queue_oldest_waiting_seconds',
    'Age of the oldest remediation job waiting to run (0 when none)',
    [],
    (g, state) => {
      if (state.queue) g.set((state.queue.oldestWaitingMs ?? 0) / 1_000);
    },
  );
  define(
    'vigil_policy_mode',
    'Global policy mode in force on this replica (1 for the mode)',
    ['mode'],
    (g) => {
      const mode = policy()?.mode;
      for (const name of MODES) g.set({ mode: name }, mode === name ? 1 : 0);
    },
  );
  define(
    'vigil_holds_active',
    'Holds, pauses and escalations stopping automatic remediation',
    [],
    (g, state) => {
      const holds = state.controls.filter(
        (control) => control.kind === 'hold' || control.kind === 'pause',
      ).length;
      g.set(holds + state.budgets.filter((budget) => budget.escalated).length);
    },
  );
  define('vigil_silences_active', 'Active silences and overrides', [], (g, state) => {
    g.set(
      state.controls.filter((control) => control.kind === 'silence' || control.kind === 'override').length,
    );
  });
  define('vigil_pending_approvals', 'Remediations waiting for a human approval', [], (g, state) => {
    g.set(state.approvals.length);
  });
  define(
    'vigil_collector_last_success_timestamp_seconds',
    'Last successful tick per collector (any replica)',
    ['collector'],
    (g, state) => {
      for (const c of state.collectors)
        if (c.lastSuccessAt !== null) g.set({ collector: c.id }, c.lastSuccessAt / 1_000);
    },
  );
  define('vigil_collector_failing', 'Collector whose last tick failed (1)', ['collector'], (g, state) => {
    for (const c of state.collectors) g.set({ collector: c.id }, c.lastOutcome === 'failure' ? 1 : 0);
  });
  const latency = histogram(registry, {
    name: 'vigil_finding_to_remediation_start_seconds',
    help: 'From a finding first recorded to its remediation starting',
    buckets: [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200],
  });
  return { findingToStart: (seconds) => latency.observe(seconds) };
}
