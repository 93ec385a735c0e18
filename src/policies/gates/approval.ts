import { effectiveMode, type Gate, pass, subject } from './types.js';

/** `requires_approval: true` turns an automatic run into a request for a human (`vigil approve`). */
export const approvalGate: Gate = {
  name: 'approval',
  check(context) {
    const { candidate, settings } = context;
    if (!settings.requires_approval) return pass(`${candidate.kind} does not require approval`);
    if (context.approved) return pass('approved by a human');
    const { mode } = effectiveMode(context);
    // Asking a human to approve something that would only be simulated wastes their attention.
    if (mode !== 'auto') return pass(`approval not needed in ${mode} mode`);
    return {
      result: 'needs-approval',
      reason: `${subject(candidate)} requires approval (remediations.${candidate.kind}.requires_approval)`,
    };
  },
};
