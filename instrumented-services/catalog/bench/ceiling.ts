// What a cache could at best do for a request sequence, to judge the measured hit ratio against.

/**
 * For each read of `ids`, whether it is the first request for its id: the only misses of an infinite cache whose
 * entries never expire, so no cache-aside can miss less on this exact sequence.
 */
export function firstTouches(ids: ArrayLike<number>): Uint8Array {
  const seen = new Set<number>();
  const first = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (!seen.has(id)) {
      seen.add(id);
      first[i] = 1;
    }
  }
  return first;
}

/** Hit ratio and DB queries per request of that ideal cache over reads [from, to) (0-based, `to` exclusive). */
export function ceilingOver(first: Uint8Array, from: number, to: number): { hitRatio: number; dbQueriesPerRequest: number } {
  let misses = 0;
  for (let i = from; i < to; i++) misses += first[i] ?? 0;
  const reads = to - from;
  return { hitRatio: 1 - misses / reads, dbQueriesPerRequest: misses / reads };
}

/**
 * How many reads must have gone before even the ideal cache sends at most `maxDbQueriesPerRequest` of the next
 * `window` reads to the database: the warm-up the sequence itself forces, whatever the cache. The smallest multiple
 * of `step`, or null when no window that fits in the sequence gets there.
 */
export function warmUpReads(first: Uint8Array, window: number, maxDbQueriesPerRequest: number, step: number): number | null {
  const prefix = new Uint32Array(first.length + 1);
  for (let i = 0; i < first.length; i++) prefix[i + 1] = (prefix[i] ?? 0) + (first[i] ?? 0);
  for (let start = 0; start + window <= first.length; start += step) {
    const misses = (prefix[start + window] ?? 0) - (prefix[start] ?? 0);
    if (misses <= maxDbQueriesPerRequest * window) return start;
  }
  return null;
}

/**
 * Long-run hit ratio of a cache that keeps an entry `ttlSeconds` from its fill (a hit does not extend it), under
 * independent reads at `requestsPerSecond` drawn with `probabilities`: each id cycles through one miss and, on
 * average, rate × TTL hits before it expires, so it hits λT / (1 + λT) of its reads (Poisson arrivals).
 */
export function ttlHitRatio(probabilities: ArrayLike<number>, requestsPerSecond: number, ttlSeconds: number): number {
  let hit = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i] as number;
    const perTtl = requestsPerSecond * p * ttlSeconds;
    hit += (p * perTtl) / (1 + perTtl);
  }
  return hit;
}

/** The lowest request rate (to 1%) at which `ttlHitRatio` reaches `target`. */
export function rateForTtlHitRatio(probabilities: ArrayLike<number>, ttlSeconds: number, target: number): number {
  let lo = 0;
  let hi = 1;
  while (ttlHitRatio(probabilities, hi, ttlSeconds) < target) hi *= 2;
  while (hi - lo > hi * 0.01) {
    const mid = (lo + hi) / 2;
    if (ttlHitRatio(probabilities, mid, ttlSeconds) < target) lo = mid;
    else hi = mid;
  }
  return hi;
}
