import { LatencyHistogram, type LatencyPercentiles } from './histogram.js';

/** The value at quantile `q` (0..1) of ascending `sorted` values (nearest rank); NaN when there are none. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** A status that counts as an error: anything but 2xx and 3xx, transport failures (`ECONNREFUSED`, ...) included. */
const isError = (status: string) => !/^[23]/.test(status);

/** What happened between two progress reports. */
export interface IntervalStats {
  /** Since the previous report, in seconds. */
  seconds: number;
  sent: number;
  completed: number;
  errors: number;
  latencyMs: LatencyPercentiles;
}

/**
 * Request outcomes and latencies of a run, in constant memory: counters, one counter per distinct status, and two
 * fixed-size histograms (the whole run's, and the current progress interval's, emptied by takeInterval()).
 */
export class RunStats {
  readonly statuses = new Map<string, number>();
  readonly latency = new LatencyHistogram();
  private readonly intervalLatency = new LatencyHistogram();
  private intervalErrors = 0;
  private sentAtInterval = 0;
  private intervalStarted: number;
  sent = 0;
  /** Requests the schedule asked for but the in-flight cap would not allow: the target is slower than the rate. */
  skipped = 0;

  constructor(now: number = performance.now()) {
    this.intervalStarted = now;
  }

  record(status: string, latencyMs: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    this.latency.record(latencyMs);
    this.intervalLatency.record(latencyMs);
    if (isError(status)) this.intervalErrors++;
  }

  get completed(): number {
    return this.latency.count;
  }

  get errors(): number {
    let n = 0;
    for (const [status, count] of this.statuses) if (isError(status)) n += count;
    return n;
  }

  /** What the latency histograms hold, in bytes by their own estimate: the same after one sample or a billion. */
  get footprintBytes(): number {
    return this.latency.footprintBytes + this.intervalLatency.footprintBytes;
  }

  /** The whole run's latency percentiles, in milliseconds. */
  percentiles(): LatencyPercentiles {
    return this.latency.percentiles();
  }

  /** The interval since the previous call (or since the start), and the start of the next one. */
  takeInterval(now: number = performance.now()): IntervalStats {
    const interval = {
      seconds: (now - this.intervalStarted) / 1000,
      sent: this.sent - this.sentAtInterval,
      completed: this.intervalLatency.count,
      errors: this.intervalErrors,
      latencyMs: this.intervalLatency.percentiles(),
    };
    this.intervalLatency.reset();
    this.intervalErrors = 0;
    this.sentAtInterval = this.sent;
    this.intervalStarted = now;
    return interval;
  }
}
