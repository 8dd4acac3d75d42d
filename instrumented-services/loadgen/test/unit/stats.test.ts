import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HISTOGRAM_RANGE, LatencyHistogram } from '../../src/histogram.js';
import { RunStats } from '../../src/stats.js';
import { seededRandom } from '../../src/zipf.js';

/** The exact nearest-rank value at quantile q: the ceil(q·n)-th smallest, HdrHistogram's definition. */
const exactAt = (sorted: readonly number[], q: number) => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? Number.NaN;

/**
 * The stated precision: the histogram keeps each value within 0.1% (3 significant digits: 1/1024 of a power of two),
 * then the report rounds to 3 significant digits (half a unit in the third digit).
 */
function assertWithinPrecision(reported: number, exact: number, what: string): void {
  const halfUnit = 0.5 * 10 ** (Math.floor(Math.log10(exact)) - (HISTOGRAM_RANGE.significantDigits - 1));
  const tolerance = exact / 1000 + halfUnit;
  assert.ok(Math.abs(reported - exact) <= tolerance, `${what}: reported ${reported}, exact ${exact} (tolerance ${tolerance})`);
}

const QUANTILES = { p50: 0.5, p90: 0.9, p99: 0.99 } as const;

describe('LatencyHistogram', () => {
  it('reports the percentiles of 1 µs .. 100 ms in microsecond steps within the stated precision', () => {
    const h = new LatencyHistogram();
    for (let us = 1; us <= 100_000; us++) h.record(us / 1000);
    const p = h.percentiles();
    assert.equal(h.count, 100_000);
    assertWithinPrecision(p.p50, 50, 'p50');
    assertWithinPrecision(p.p90, 90, 'p90');
    assertWithinPrecision(p.p99, 99, 'p99');
    assert.equal(p.max, 100);
  });

  it('matches the exact percentiles of a long-tailed random sequence (0.05 ms .. 20 s) within the stated precision', () => {
    const random = seededRandom(11);
    const values: number[] = [];
    const h = new LatencyHistogram();
    for (let i = 0; i < 200_000; i++) {
      // Log-uniform over six decades: every bucket size of the histogram is exercised.
      const ms = 0.05 * 10 ** (random() * 5.6);
      values.push(ms);
      h.record(ms);
    }
    values.sort((a, b) => a - b);
    const p = h.percentiles();
    for (const [name, q] of Object.entries(QUANTILES)) assertWithinPrecision(p[name as keyof typeof QUANTILES], exactAt(values, q), name);
    assert.equal(p.max, Math.round((values.at(-1) ?? 0) * 1000) / 1000);
  });

  it('rounds to 3 significant digits, and never reports a percentile above the largest sample', () => {
    const low = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) low.record(1234.5);
    assert.deepEqual(low.percentiles(), { p50: 1230, p90: 1230, p99: 1230, max: 1234.5 });
    // 1235 ms sits in a 1.024 ms wide bucket whose top, to 3 significant digits, is 1240: more than was recorded.
    const high = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) high.record(1235);
    assert.deepEqual(high.percentiles(), { p50: 1235, p90: 1235, p99: 1235, max: 1235 });
  });

  it('reports zeros when empty, and counts values beyond its range at the top instead of throwing', () => {
    const h = new LatencyHistogram();
    assert.deepEqual(h.percentiles(), { p50: 0, p90: 0, p99: 0, max: 0 });
    h.record(250_000);
    h.record(0);
    assert.equal(h.count, 2);
    assert.equal(h.percentiles().p99, HISTOGRAM_RANGE.highestMicros / 1000);
    assert.equal(h.percentiles().max, 250_000);
  });

  it('does not grow with the number of samples: 5,000,000 recorded, the same footprint as after the first', () => {
    const h = new LatencyHistogram();
    h.record(1);
    const footprint = h.footprintBytes;
    assert.ok(footprint > 0 && footprint < 256 * 1024, `footprint ${footprint} bytes`);
    const random = seededRandom(5);
    for (let i = 0; i < 5_000_000; i++) h.record(0.001 * 10 ** (random() * 8));
    assert.equal(h.count, 5_000_001);
    assert.equal(h.footprintBytes, footprint);
  });
});

describe('RunStats', () => {
  it('keeps the whole run and the current interval apart; taking an interval empties it', () => {
    const stats = new RunStats(0);
    for (let i = 0; i < 95; i++) stats.record('200', 10);
    for (let i = 0; i < 5; i++) stats.record('503', 40);
    stats.record('ECONNRESET', 80);
    stats.sent = 104;
    const first = stats.takeInterval(2000);
    assert.deepEqual(first, { seconds: 2, sent: 104, completed: 101, errors: 6, latencyMs: { p50: 10, p90: 10, p99: 40, max: 80 } });

    for (let i = 0; i < 10; i++) stats.record('201', 1);
    stats.sent = 115;
    const second = stats.takeInterval(3000);
    assert.deepEqual(second, { seconds: 1, sent: 11, completed: 10, errors: 0, latencyMs: { p50: 1, p90: 1, p99: 1, max: 1 } });
    assert.deepEqual(stats.takeInterval(3500).latencyMs, { p50: 0, p90: 0, p99: 0, max: 0 });

    assert.equal(stats.completed, 111);
    assert.equal(stats.errors, 6);
    assert.deepEqual(stats.percentiles(), { p50: 10, p90: 10, p99: 40, max: 80 });
  });

  it('holds the same memory after 5,000,000 samples as after one', () => {
    const stats = new RunStats(0);
    stats.record('200', 1);
    const footprint = stats.footprintBytes;
    const random = seededRandom(9);
    for (let i = 1; i < 5_000_000; i++) {
      stats.record(random() < 0.01 ? '500' : '200', 0.2 + random() * random() * 3000);
      if (i % 50_000 === 0) stats.takeInterval(i);
    }
    assert.equal(stats.completed, 5_000_000);
    assert.equal(stats.footprintBytes, footprint);
    assert.equal(stats.statuses.size, 2);
  });
});
