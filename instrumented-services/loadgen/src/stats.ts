/** The value at quantile `q` (0..1) of ascending `sorted` values (nearest rank); NaN when there are none. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** Request outcomes and latencies of a run. */
export class RunStats {
  readonly statuses = new Map<string, number>();
  private readonly latencies: number[] = [];
  sent = 0;
  /** Requests the schedule asked for but the in-flight cap would not allow: the target is slower than the rate. */
  skipped = 0;

  record(status: string, latencyMs: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    this.latencies.push(latencyMs);
  }

  get completed(): number {
    return this.latencies.length;
  }

  get errors(): number {
    let n = 0;
    for (const [status, count] of this.statuses) if (!/^[23]/.test(status)) n += count;
    return n;
  }

  percentiles(): { p50: number; p90: number; p99: number; max: number } {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? 0 : percentile(sorted, q));
    const round = (v: number) => Math.round(v * 10) / 10;
    return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) };
  }
}
