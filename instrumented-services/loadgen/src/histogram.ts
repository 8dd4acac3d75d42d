import { build, type Histogram } from 'hdr-histogram-js';

/**
 * The latency histogram's fixed range and precision. Values are recorded in whole microseconds; the top is the
 * longest `--timeout-ms` (120 s) so that no request the loadgen can wait for is clamped. Three significant digits
 * keep every recorded value within 0.1% of the value reported for it (HdrHistogram's sub-buckets are 1/2048 of
 * their power-of-two range), in about 18,000 counters whatever the number of samples.
 */
export const HISTOGRAM_RANGE = { lowestMicros: 1, highestMicros: 120_000_000, significantDigits: 3 } as const;

export interface LatencyPercentiles {
  /** Milliseconds, to 3 significant digits. 0 when nothing was recorded. */
  p50: number;
  p90: number;
  p99: number;
  /** The largest latency recorded, exact (not bucketed), to the microsecond. */
  max: number;
}

/** `ms` to 3 significant digits, the histogram's precision: more digits would claim accuracy it does not keep. */
const significant = (ms: number) => Number(ms.toPrecision(HISTOGRAM_RANGE.significantDigits));

/** Latencies in a fixed-size HdrHistogram: memory does not grow with the number of samples. */
export class LatencyHistogram {
  // The JS build, not the WASM one: recording is a few integer operations either way at a few thousand requests per
  // second, and the WASM build needs an asynchronous initialisation and an explicit destroy() to free its memory.
  // 64-bit (float) counters: 32-bit ones wrap silently after 2^32 samples in one bucket, which an endless run reaches.
  private readonly histogram: Histogram = build({
    bitBucketSize: 64,
    autoResize: false,
    lowestDiscernibleValue: HISTOGRAM_RANGE.lowestMicros,
    highestTrackableValue: HISTOGRAM_RANGE.highestMicros,
    numberOfSignificantValueDigits: HISTOGRAM_RANGE.significantDigits,
    useWebAssembly: false,
  });
  private maxMs = 0;

  record(latencyMs: number): void {
    // Above the range (a request that outlived its timeout by a little) counts at the top rather than throwing.
    const micros = Math.min(HISTOGRAM_RANGE.highestMicros, Math.max(0, Math.round(latencyMs * 1000)));
    this.histogram.recordValue(micros);
    if (latencyMs > this.maxMs) this.maxMs = latencyMs;
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Nearest rank: the value at or below which `q` (0..1) of the samples lie, in milliseconds; 0 when empty. */
  valueAt(q: number): number {
    if (this.count === 0) return 0;
    // The histogram answers with the top of the value's bucket: never report more than the largest actual sample.
    return Math.min(significant(this.histogram.getValueAtPercentile(q * 100) / 1000), this.max);
  }

  /** The largest sample, exact to the microsecond; 0 when empty. */
  get max(): number {
    return Math.round(this.maxMs * 1000) / 1000;
  }

  percentiles(): LatencyPercentiles {
    return { p50: this.valueAt(0.5), p90: this.valueAt(0.9), p99: this.valueAt(0.99), max: this.max };
  }

  reset(): void {
    this.histogram.reset();
    this.maxMs = 0;
  }

  /** The histogram's own estimate of its size in bytes (its counters plus a fixed overhead). */
  get footprintBytes(): number {
    return this.histogram.estimatedFootprintInBytes;
  }
}
