import type { RunService } from '../../platform/run-types.js';
import type { VerifyOutcome } from '../types.js';

/**
 * The verdict on a service whose newest revision is not the one serving yet: still rolling out
 * while Cloud Run reconciles, failed once it stopped. Undefined when the newest revision serves.
 */
export function pendingRollout(service: RunService): VerifyOutcome | undefined {
  if (service.latestReadyRevision === service.latestCreatedRevision) return undefined;
  return service.reconciling
    ? {
        status: 'not-yet',
        detail: `${service.name}: revision ${service.latestCreatedRevision} still rolling out`,
      }
    : {
        status: 'failed',
        detail: `${service.name}: revision ${service.latestCreatedRevision} never became ready`,
      };
}
