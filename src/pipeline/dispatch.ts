import type { AuditRecord } from '../audit/chain.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Decision, Finding } from '../core/types.js';
import { remediationRegistry } from '../remediations/index.js';
import type { RemediationQueue } from './remediation-queue.js';

/**
 * Turns `act` decisions into remediation jobs: the remediation's exact plan for the finding, then
 * the queue (deduplicated by plan). Every `act` ends in the audit with what became of it: queued,
 * joined the plan's existing job (`deduplicated: joined job J`), refused (queue full) or impossible.
 */
export function createDispatcher(deps: {
  readonly queue: RemediationQueue;
  readonly audit: { append(record: AuditRecord): Promise<unknown> };
  readonly logger: Logger;
}): (finding: Finding, decisions: readonly Decision[], collector?: string) => Promise<void> {
  return async (finding, decisions, collector) => {
    for (const decision of decisions) {
      if (decision.action !== 'act' || !decision.remediation || !decision.params || !decision.ruleId)
        continue;
      const definition = remediationRegistry.get(decision.remediation);
      let plan: ReturnType<typeof definition.plan>;
      try {
        plan = definition.plan(finding, definition.params.parse(decision.params));
      } catch (error) {
        await record(deps, { event: 'plan-impossible', findingId: finding.id, reason: errorMessage(error) });
        continue;
      }
      try {
        const result = await deps.queue.enqueue({
          finding,
          ruleId: decision.ruleId,
          plan,
          ...(collector ? { collector } : {}),
        });
        deps.logger.debug(
          { findingId: finding.id, jobId: result.jobId, status: result.status },
          'remediation job',
        );
        if (result.status === 'enqueued') {
          await record(deps, {
            event: 'enqueued',
            findingId: finding.id,
            plan,
            reason:
              result.again === undefined
                ? `job ${result.jobId}`
                : `job ${result.jobId} again (its previous job ${result.again})`,
          });
        } else if (result.status === 'duplicate') {
          // Every `act` gets an outcome in the audit: this one joined the plan's job.
          await record(deps, {
            event: 'deduplicated',
            findingId: finding.id,
            plan,
            reason: `deduplicated: joined job ${result.jobId} (${result.state})`,
          });
        } else if (result.status === 'full') {
          await record(deps, {
            event: 'queue-full',
            findingId: finding.id,
            plan,
            reason: `${result.queued} remediation jobs already waiting; not queued`,
          });
        }
      } catch (error) {
        deps.logger.error({ findingId: finding.id, error: errorMessage(error) }, 'remediation not queued');
      }
    }
  };
}

async function record(
  deps: { readonly audit: { append(record: AuditRecord): Promise<unknown> }; readonly logger: Logger },
  entry: AuditRecord,
): Promise<void> {
  const fields = { findingId: entry.findingId, event: entry.event, reason: entry.reason };
  if (entry.event === 'enqueued') deps.logger.info(fields, 'remediation queued');
  else if (entry.event === 'deduplicated') deps.logger.debug(fields, 'remediation joined its job');
  else deps.logger.warn(fields, 'remediation not queued');
  try {
    await deps.audit.append(entry);
  } catch (error) {
    deps.logger.error({ findingId: entry.findingId, error: errorMessage(error) }, 'decision not audited');
  }
}
