import type { Redis } from 'ioredis';
import type { Clock } from '../core/clock.js';
import { TransientError } from '../core/errors.js';
import type { Decision, Finding } from '../core/types.js';
import type { ApprovalState, RedisKeys } from '../store/keys.js';

/**
 * Human approvals, kept in Redis so every replica and the `vigil approve` command share them.
 * A `needs-approval` decision leaves a request under the finding's id (one per episode); a human
 * grants it by that id; while the grant lives, the policy treats the finding's remediations as
 * approved, at decision time and again when the worker runs the job.
 *
 * Keys: `RedisKeys.approval` (src/store/keys.ts); a request lives 7 days, a grant 24 hours. A grant
 * is also published on `RedisKeys.approvalGranted`, so the daemon re-runs the deciding collector's
 * tick at once (the next scheduled tick, possibly hours away, would otherwise be the first to act).
 */
export interface ApprovalRequest {
  readonly findingId: string;
  readonly series: string;
  readonly ruleId: string | null;
  readonly remediation?: string;
  readonly target?: string;
  readonly reason: string;
  readonly requestedAt: number;
  /** The collector whose tick decided it: a grant re-runs that tick at once instead of waiting. */
  readonly collector?: string;
}

export interface ApprovalGrant {
  readonly findingId: string;
  readonly approver: string;
  readonly at: number;
  readonly request: ApprovalRequest;
}

const REQUEST_TTL_MS = 7 * 86_400_000;
const GRANT_TTL_MS = 86_400_000;

export class ApprovalStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
  ) {}

  /** Records that `decision` waits for a human; true the first time for this finding. */
  async request(finding: Finding, decision: Decision, collector?: string): Promise<boolean> {
    const request: ApprovalRequest = {
      findingId: finding.id,
      series: finding.series,
      ruleId: decision.ruleId,
      ...(decision.remediation ? { remediation: decision.remediation } : {}),
      ...(decision.target ? { target: decision.target } : {}),
      reason: decision.reason,
      requestedAt: this.clock.now(),
      ...(collector ? { collector } : {}),
    };
    const set = await this.call(() =>
      this.redis.set(this.key('pending', finding.id), JSON.stringify(request), 'PX', REQUEST_TTL_MS, 'NX'),
    );
    return set === 'OK';
  }

  /** The grant for this finding, if a human approved it and the grant has not expired. */
  async granted(findingId: string): Promise<ApprovalGrant | undefined> {
    const raw = await this.call(() => this.redis.get(this.key('granted', findingId)));
    return raw ? (JSON.parse(raw) as ApprovalGrant) : undefined;
  }

  /** Grants the pending request of `findingId`; undefined when there is none (nothing to approve). */
  async grant(findingId: string, approver: string): Promise<ApprovalGrant | undefined> {
    const raw = await this.call(() => this.redis.get(this.key('pending', findingId)));
    if (!raw) return undefined;
    const grant: ApprovalGrant = { findingId, approver, at: this.clock.now(), request: JSON.parse(raw) };
    await this.call(() =>
      this.redis
        .multi()
        .set(this.key('granted', findingId), JSON.stringify(grant), 'PX', GRANT_TTL_MS)
        .del(this.key('pending', findingId))
        .publish(this.keys.approvalGranted, findingId)
        .exec(),
    );
    return grant;
  }

  /** Every request still waiting, oldest first. */
  async pending(): Promise<ApprovalRequest[]> {
    const requests: ApprovalRequest[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.call(() =>
        this.redis.scan(cursor, 'MATCH', `${this.key('pending', '')}*`, 'COUNT', 500),
      );
      cursor = next;
      const values = keys.length > 0 ? await this.call(() => this.redis.mget(...keys)) : [];
      for (const value of values) if (value) requests.push(JSON.parse(value) as ApprovalRequest);
    } while (cursor !== '0');
    return requests.sort((a, b) => a.requestedAt - b.requestedAt);
  }

  private key(state: ApprovalState, findingId: string): string {
    return this.keys.approval(state, findingId);
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new TransientError('approval store unavailable', { cause: error });
    }
  }
}
