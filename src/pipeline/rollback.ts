import type { AuditRecord } from '../audit/chain.js';
import type { ControlStore } from '../controls/store.js';
import { type DeployMemory, pauseActive } from '../controls/types.js';
import type { Clock } from '../core/clock.js';
import type { NotifyEvent, RemediationStage } from '../notify/types.js';
import type { RedeployPlan } from '../remediations/redeploy-service.js';
import { rollbackPlan, rollbackService } from '../remediations/rollback-service.js';
import type { RemediationContext, RemediationPlan } from '../remediations/types.js';

/**
 * The rollback after a redeploy whose new revision failed its health checks within the
 * verification window: traffic goes back to the revision the redeploy plan recorded as serving
 * before it (`rollback-service`, idempotent, audited "started" before it acts, announced), and the
 * bad commit enters vigil's do-not-deploy memory (Redis, provenance `vigil`, the evidence, an
 * expiry), which the freeze gate honours exactly like the policy file's `do_not_deploy`.
 *
 * Gates: a rollback restores what served minutes ago, so deploy freezes, maintenance windows,
 * cooldowns and rate limits do not apply to it — leaving a failing revision serving is the riskier
 * choice. The kill switch does: while vigil is paused (or `mode: off`) nothing is rolled back, and
 * the redeploy's target is held for a human instead.
 */
export const DO_NOT_DEPLOY_MEMORY_MS = 7 * 86_400_000;

export type RollbackResult = 'rolled-back' | 'no-previous-revision' | 'paused';

export interface RollbackDeps {
  readonly controls?: ControlStore | undefined;
  readonly audit: { append(record: AuditRecord): Promise<unknown> };
  readonly announce: (event: NotifyEvent) => unknown;
  readonly clock: Clock;
  readonly context: RemediationContext;
  readonly paused: boolean;
  readonly report: (
    stage: RemediationStage,
    findingId: string,
    plan: RemediationPlan,
    detail: string,
  ) => Promise<void>;
}

export async function rollBack(
  redeploy: RemediationPlan,
  findingId: string,
  evidence: string,
  deps: RollbackDeps,
): Promise<RollbackResult> {
  const { service, commit, previousRevision } = redeploy as RedeployPlan;
  if (redeploy.kind !== 'redeploy-service' || !previousRevision) return 'no-previous-revision';
  const controls = await deps.controls?.read();
  if (deps.paused || pauseActive(controls?.pause, deps.clock.now())) return 'paused';
  const plan = rollbackPlan(service, previousRevision, commit);
  // Fail closed as every run: without the "started" record nothing happens.
  await deps.audit.append({ event: 'started', findingId, plan, reason: `rollback: ${evidence}` });
  const outcome = await rollbackService.execute(plan, deps.context);
  await deps.report(
    outcome.status === 'changed' ? 'executed' : 'already-satisfied',
    findingId,
    plan,
    outcome.detail,
  );
  const now = deps.clock.now();
  const memory: DeployMemory = {
    service,
    commit,
    provenance: 'vigil',
    evidence,
    since: now,
    until: now + DO_NOT_DEPLOY_MEMORY_MS,
  };
  await deps.controls?.rememberBadCommit(memory);
  const text = `${service} must not be redeployed to ${commit.slice(0, 8)} until ${new Date(memory.until).toISOString()} (do-not-deploy by vigil: ${evidence})`;
  await deps.audit.append({ event: 'do-not-deploy-added', findingId, plan: memory, reason: text });
  deps.announce({ type: 'control', severity: 'escalation', action: 'do-not-deploy-added', text });
  return 'rolled-back';
}
