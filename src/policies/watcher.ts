import { EventEmitter } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Gauge } from 'prom-client';
import { type Clock, systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { gauge, type MetricsRegistry } from '../core/metrics.js';
import { overrideState } from './gates/override.js';
import { type LoadOptions, parsePolicy } from './load.js';
import type { OverrideState, PolicySnapshot } from './types.js';

export interface PolicyWatcherOptions extends LoadOptions {
  readonly file: string;
  readonly registry: MetricsRegistry;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Quiet time after the last file event before reading (editors write in several steps). */
  readonly debounceMs?: number;
}

/** applied: a new snapshot is in force; rejected: the edit was refused and the last good one kept. */
export type ReloadResult =
  | { readonly status: 'applied'; readonly snapshot: PolicySnapshot }
  | { readonly status: 'unchanged'; readonly snapshot: PolicySnapshot }
  | { readonly status: 'rejected'; readonly problems: readonly string[] }
  | { readonly status: 'deferred' };

interface WatcherEvents {
  applied: [snapshot: PolicySnapshot, previous: PolicySnapshot | undefined];
  rejected: [problems: readonly string[]];
}

/**
 * Keeps the policy in force: loads it at start, reloads on file change (debounced) and on
 * `reload()` (the daemon calls it on SIGHUP), and swaps one reference to a fully compiled
 * snapshot. A rejected edit never replaces the last good policy. Reloads never overlap.
 */
export class PolicyWatcher extends EventEmitter<WatcherEvents> {
  private snapshot: PolicySnapshot | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly clock: Clock;
  private readonly debounceMs: number;
  private readonly metrics;

  constructor(private readonly options: PolicyWatcherOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.debounceMs = options.debounceMs ?? 250;
    this.metrics = createMetrics(options.registry, () => this.snapshot, this.clock);
  }

  /** True once a policy has been applied; stays true when later edits are rejected. */
  get ready(): boolean {
    return this.snapshot !== undefined;
  }

  /** The policy in force, or undefined before the first valid load (callers must then not act). */
  current(): PolicySnapshot | undefined {
    return this.snapshot;
  }

  /** Loads the file and starts watching its directory (which survives atomic renames). */
  async start(): Promise<ReloadResult> {
    this.stopped = false;
    if (!this.watcher) {
      const name = basename(this.options.file);
      this.watcher = watch(dirname(this.options.file), { persistent: false }, (_event, changed) => {
        // An atomic rename reports the target's name; Kubernetes ConfigMaps swap a `..data` link.
        if (changed === null || changed === name || changed.startsWith('..')) this.schedule();
      });
      this.watcher.on('error', (error) =>
        this.options.logger.error({ err: error, file: this.options.file }, 'policy file watch failed'),
      );
    }
    return this.reload();
  }

  /** Reads, validates and (if valid and changed) applies the file now. Serialised with other reloads. */
  reload(): Promise<ReloadResult> {
    const run = this.chain.then(() => this.reloadOnce());
    this.chain = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.timer);
    await this.chain;
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.debounceMs);
  }

  private async reloadOnce(): Promise<ReloadResult> {
    const { file, logger } = this.options;
    const read = await readStable(file);
    if (read === 'changing') {
      // Still being written: never parse a moving file, try again once it is quiet.
      this.schedule();
      return { status: 'deferred' };
    }
    const result = 'problems' in read ? read : parsePolicy(read.text, file, this.options);
    if ('problems' in result) {
      this.metrics.successful.set(0);
      logger.error({ file, problems: result.problems }, 'policy rejected; keeping the last good policy');
      this.emit('rejected', result.problems);
      return { status: 'rejected', problems: result.problems };
    }
    this.metrics.successful.set(1);
    this.metrics.successTime.set(this.clock.now() / 1000);
    const previous = this.snapshot;
    if (previous?.hash === result.snapshot.hash) return { status: 'unchanged', snapshot: previous };
    this.snapshot = result.snapshot;
    this.metrics.info.reset();
    this.metrics.info.set({ hash: result.snapshot.hash, file }, 1);
    logger.info({ file, hash: result.snapshot.hash, previousHash: previous?.hash }, 'policy applied');
    for (const override of result.snapshot.overrides) {
      if (overrideState(override, this.clock.now()) !== 'expired') continue;
      logger.warn(
        { file, override: override.id, line: override.line },
        'policy lists an expired override; delete it',
      );
    }
    this.emit('applied', result.snapshot, previous);
    return { status: 'applied', snapshot: result.snapshot };
  }
}

/** Reads the file and checks it did not change while being read (size and mtime before and after). */
async function readStable(file: string): Promise<{ text: string } | { problems: string[] } | 'changing'> {
  try {
    const before = await stat(file);
    const text = await readFile(file, 'utf8');
    const after = await stat(file);
    const same = before.mtimeMs === after.mtimeMs && before.size === after.size;
    if (!same || Buffer.byteLength(text) !== after.size) return 'changing';
    return { text };
  } catch (error) {
    return { problems: [`${file}:1 (root): cannot read the policy file: ${errorMessage(error)}`] };
  }
}

function createMetrics(registry: MetricsRegistry, current: () => PolicySnapshot | undefined, clock: Clock) {
  const overridesName = 'vigil_policy_overrides';
  // Bound to this watcher's snapshot: replace any gauge left by an earlier watcher.
  registry.removeSingleMetric(overridesName);
  new Gauge({
    name: overridesName,
    help: 'Overrides in the policy in force, by state (pending, active, expired: delete expired ones)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts: Record<OverrideState, number> = { pending: 0, active: 0, expired: 0 };
      for (const override of current()?.overrides ?? []) counts[overrideState(override, clock.now())] += 1;
      for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
    },
  });
  return {
    successful: gauge(registry, {
      name: 'vigil_policy_last_reload_successful',
      help: '1 when the last policy reload succeeded, 0 when it was rejected (the last good policy is kept)',
    }),
    successTime: gauge(registry, {
      name: 'vigil_policy_last_reload_success_timestamp_seconds',
      help: 'Time of the last successful policy reload',
    }),
    info: gauge(registry, {
      name: 'vigil_policy_info',
      help: 'The policy in force (value 1), labelled with its sha256 and file',
      labelNames: ['hash', 'file'],
    }),
  };
}
