/**
 * Zipf-distributed ranks: rank k in 1..n is drawn with probability proportional to 1 / k^s. Real shops see this
 * shape: a few products take most of the views. Sampling is a binary search over the precomputed CDF.
 */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    readonly s: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
    if (!(s >= 0)) throw new RangeError(`s must be >= 0, got ${s}`);
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let k = 1; k <= n; k++) {
      total += 1 / k ** s;
      this.cdf[k - 1] = total;
    }
    for (let i = 0; i < n; i++) this.cdf[i] = (this.cdf[i] ?? 0) / total;
  }

  /** The probability of rank k. */
  probability(k: number): number {
    return (this.cdf[k - 1] ?? 0) - (k > 1 ? (this.cdf[k - 2] ?? 0) : 0);
  }

  /** A rank from 1 (most popular) to n. */
  next(): number {
    const u = this.random();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cdf[mid] ?? 1) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }
}

/** A small seeded PRNG (mulberry32), so that a load profile can be replayed exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
