/**
 * Named cleanups run in reverse order of registration (last built, first torn down).
 * Every cleanup runs even when an earlier one fails; failures are aggregated. The whole
 * run is bounded by a deadline because some libraries' close() (BullMQ's) has none.
 */
export type Cleanup = () => Promise<void> | void;

export interface CleanupFailure {
  readonly name: string;
  readonly error: unknown;
}

export class CleanupError extends AggregateError {
  constructor(readonly failures: readonly CleanupFailure[]) {
    super(
      failures.map((failure) => failure.error),
      `cleanup failed: ${failures.map((failure) => failure.name).join(', ')}`,
    );
    this.name = 'CleanupError';
  }
}

export class CleanupStack {
  private readonly cleanups: { name: string; run: Cleanup }[] = [];
  private running: Promise<void> | undefined;

  push(name: string, run: Cleanup): void {
    if (this.running) throw new Error(`cannot register cleanup "${name}" while shutting down`);
    this.cleanups.push({ name, run });
  }

  get size(): number {
    return this.cleanups.length;
  }

  /**
   * Runs every cleanup, LIFO. Idempotent: a second call returns the first call's promise.
   * A cleanup still pending at the deadline is reported as a failure and abandoned.
   */
  runAll(deadlineMs: number): Promise<void> {
    this.running ??= this.execute(deadlineMs);
    return this.running;
  }

  private async execute(deadlineMs: number): Promise<void> {
    const failures: CleanupFailure[] = [];
    // Monotonic time: a deadline must not move when the wall clock is adjusted.
    const stopAt = performance.now() + deadlineMs;
    for (const { name, run } of [...this.cleanups].reverse()) {
      const remaining = stopAt - performance.now();
      try {
        await withDeadline(Promise.resolve().then(run), Math.max(0, remaining), name);
      } catch (error) {
        failures.push({ name, error });
      }
    }
    this.cleanups.length = 0;
    if (failures.length > 0) throw new CleanupError(failures);
  }
}

async function withDeadline<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cleanup "${name}" exceeded the shutdown deadline`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
