import { type Gate, pass, skip } from './types.js';

/** The finding label that names the commit a redeploy would roll to (set by the drift collector). */
export const TARGET_COMMIT_LABEL = 'main_commit';

const sameCommit = (a: string, b: string): boolean => a.startsWith(b) || b.startsWith(a);

/**
 * `do_not_deploy`: a redeploy must never roll a service to a commit a human rolled back (the
 * policy file) or vigil rolled back (its do-not-deploy memory in Redis, until it expires). Short
 * and full shas match by prefix. When the service has entries but the finding does not say which
 * commit the redeploy would use, the gate fails closed.
 */
export const freezeGate: Gate = {
  name: 'freeze',
  check(context) {
    const { candidate, finding, snapshot } = context;
    if (candidate.kind !== 'redeploy-service') return pass('not a redeploy');
    const service = candidate.params.service ?? candidate.target;
    const entries = [
      ...snapshot.doNotDeploy.map((entry) => ({ ...entry, source: 'do_not_deploy' })),
      ...context.controls.doNotDeploy.map((entry) => ({
        service: entry.service,
        commit: entry.commit,
        created_by: entry.provenance,
        reason: entry.evidence,
        source: 'do-not-deploy',
      })),
    ].filter((entry) => entry.service === service);
    if (entries.length === 0) return pass(`no do_not_deploy entry for ${service}`);
    const commit = finding.labels[TARGET_COMMIT_LABEL];
    if (!commit) {
      return skip(
        `deploy freeze: ${service} has ${entries.length} do_not_deploy commit(s) and the finding has no ${TARGET_COMMIT_LABEL} label`,
      );
    }
    const frozen = entries.find((entry) => sameCommit(entry.commit.toLowerCase(), commit.toLowerCase()));
    if (!frozen) return pass(`${commit} is not on do_not_deploy for ${service}`);
    return skip(
      `deploy freeze: ${service} must not roll to ${frozen.commit} (${frozen.source} by ${frozen.created_by}: ${frozen.reason.replace(/\s+/g, ' ')})`,
    );
  },
};
