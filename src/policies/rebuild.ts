import { readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { AuditEntry } from '../core/types.js';
import type { RedisKeys } from '../store/keys.js';
import type { CounterStore } from './counters.js';

/**
 * Rebuilds this replica's share of the policy counters (cooldowns, hour and day run windows) from
 * its own audit log when Redis no longer has them: a Redis that restarted empty would otherwise
 * forget every cooldown and let a storm of runs through.
 *
 * A sentinel per replica (`RedisKeys.countersRebuilt`) says "this Redis holds this replica's
 * history". It is written after the replay, so a missing sentinel means a fresh or emptied Redis;
 * every replica replays its own log (each run is in exactly one log), so nothing is counted twice.
 * A crash between replay and sentinel replays again: runs counted twice, the safe direction.
 */
export interface RebuildDeps {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly counters: CounterStore;
  readonly replica: string;
  /** This replica's audit log file. */
  readonly auditFile: string;
  readonly now: number;
}

const WEEK = 7 * 86_400_000;

/** Returns how many runs were replayed, or null when Redis still had this replica's counters. */
export async function rebuildCounters(deps: RebuildDeps): Promise<number | null> {
  const sentinel = deps.keys.countersRebuilt(deps.replica);
  if ((await deps.redis.exists(sentinel)) === 1) return null;
  const runs = (await startedEntries(deps.auditFile)).filter((entry) => entry.time > deps.now - WEEK);
  for (const entry of runs) {
    const plan = entry.plan as { kind?: unknown; target?: unknown } | undefined;
    if (typeof plan?.kind !== 'string' || typeof plan.target !== 'string') continue;
    await deps.counters.restoreRun(plan.kind, plan.target, `audit:${deps.replica}:${entry.seq}`, entry.time);
  }
  await deps.redis.set(sentinel, String(deps.now));
  return runs.length;
}

async function startedEntries(file: string): Promise<AuditEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const entries: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"started"')) continue;
    const entry = JSON.parse(line) as AuditEntry;
    if (entry.event === 'started') entries.push(entry);
  }
  return entries;
}

/**
 * Keeps the counters rebuilt across reconnects: `run()` at start and whenever Redis is back;
 * until a run finished, `problem` says why no remediation may be claimed (fail safe).
 */
export class CounterRebuild {
  private pending: string | null = 'policy counters not rebuilt from the audit log yet';
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: Omit<RebuildDeps, 'now'> & { readonly now: () => number },
    private readonly log: (replayed: number) => void,
    private readonly fail: (error: unknown) => void,
  ) {}

  get problem(): string | null {
    return this.pending;
  }

  /** Redis went away: until the next run, it may come back without the counters. */
  lost(): void {
    this.pending = 'Redis reconnected; policy counters not confirmed yet';
  }

  run(): Promise<void> {
    this.running ??= rebuildCounters({ ...this.deps, now: this.deps.now() })
      .then((replayed) => {
        this.pending = null;
        if (replayed !== null) this.log(replayed);
      })
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
