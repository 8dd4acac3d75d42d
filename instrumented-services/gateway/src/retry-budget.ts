export interface RetryBudgetOptions {
  /** Share of the requests in the window that may be retried. */
  ratio: number;
  /** Retries allowed per second of the window whatever the traffic, so a quiet upstream still gets a few. */
  minPerSecond: number;
  /** How far back "recent" reaches, in seconds. */
  windowSeconds: number;
  /** Milliseconds, for tests. */
  now?: () => number;
}

/**
 * Retries to one upstream may add at most `ratio` of its recent requests, plus a small floor (Finagle's
 * RetryBudget, gRPC's retry throttling). Per-request retry limits alone let an upstream that fails every request
 * receive 1 + retries times its load exactly when it can least take it; with a budget a failing upstream sees at
 * most about `1 + ratio` times the load. Counted in one-second slots over a sliding window: a few dozen numbers,
 * no timers.
 */
export class RetryBudget {
  private readonly requests: number[];
  private readonly retries: number[];
  private readonly now: () => number;
  private slot = 0;
  private second: number;

  constructor(private readonly options: RetryBudgetOptions) {
    this.requests = new Array<number>(options.windowSeconds).fill(0);
    this.retries = new Array<number>(options.windowSeconds).fill(0);
    this.now = options.now ?? Date.now;
    this.second = Math.floor(this.now() / 1000);
  }

  /** Call once per request (not per attempt). */
  recordRequest(): void {
    this.advance();
    this.requests[this.slot] = (this.requests[this.slot] ?? 0) + 1;
  }

  /** Whether one more retry fits the budget now; a retry that fits is counted against it. */
  tryRetry(): boolean {
    this.advance();
    const allowed = this.options.minPerSecond * this.options.windowSeconds + this.options.ratio * sum(this.requests);
    if (sum(this.retries) + 1 > allowed) return false;
    this.retries[this.slot] = (this.retries[this.slot] ?? 0) + 1;
    return true;
  }

  private advance(): void {
    const second = Math.floor(this.now() / 1000);
    // A clock stepping back keeps the current slot rather than rewriting the past.
    const steps = Math.min(second - this.second, this.requests.length);
    for (let i = 0; i < steps; i++) {
      this.slot = (this.slot + 1) % this.requests.length;
      this.requests[this.slot] = 0;
      this.retries[this.slot] = 0;
    }
    if (second > this.second) this.second = second;
  }
}

function sum(counts: readonly number[]): number {
  return counts.reduce((total, n) => total + n, 0);
}
