/** One served request, as the control API reports it (tests assert on these). */
export interface LoggedRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly route: string;
  readonly status: number;
  readonly durationMs: number;
  /** Wall-clock epoch ms when the request arrived (ordering against audit entries in drills). */
  readonly receivedAt: number;
  readonly fault?: string;
}

/** A bounded log: the newest `capacity` requests, with a sequence number that never resets. */
export class RequestLog {
  private entries: LoggedRequest[] = [];
  private seq = 0;
  private readonly arrivals = new Map<number, { route: string; receivedAt: number }>();
  private arrival = 0;

  constructor(private readonly capacity = 5_000) {}

  add(entry: Omit<LoggedRequest, 'seq'>): void {
    this.seq += 1;
    this.entries.push({ seq: this.seq, ...entry });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** Marks a request as arrived (answered requests are `add`ed); returns the handle for `done`. */
  begin(route: string, receivedAt: number): number {
    this.arrival += 1;
    this.arrivals.set(this.arrival, { route, receivedAt });
    return this.arrival;
  }

  done(handle: number): void {
    this.arrivals.delete(handle);
  }

  /** Requests that arrived and are not answered yet (a drill waits for a hung call to be in flight). */
  inFlight(): readonly { route: string; receivedAt: number }[] {
    return [...this.arrivals.values()];
  }

  /** Entries with a sequence number above `after`. */
  since(after = 0): readonly LoggedRequest[] {
    return this.entries.filter((entry) => entry.seq > after);
  }

  clear(): void {
    this.entries = [];
  }
}
