import { randomUUID } from 'node:crypto';
import { checkDeadline, deadlineExceeded, remainingMs, withinDeadline } from '@lookout/http-kit';
import { createCounter, metrics, type Logger } from '@lookout/telemetry';
import type { Redis } from 'ioredis';

export interface CacheAsideOptions {
  /** Metric label and key namespace, e.g. `product`. */
  name: string;
  ttlSeconds: number;
  /** How long a "not found" is remembered, so that misses for absent keys do not all reach the database. */
  negativeTtlSeconds: number;
  /**
   * Lease of the cross-instance load lock. The holder renews it every third of this while its load runs, so a slow
   * load keeps it; it runs out only when the holder died, which then blocks the key's loads for at most this long.
   */
  lockTtlMs: number;
  /**
   * The longest a healthy load takes (a wait for a pooled connection plus one statement): how long other instances
   * wait for the holder's value before they answer from the database themselves.
   */
  loadTimeoutMs: number;
}

// Deletes the lock only if we still hold it: a lock that expired and was taken by another loader stays.
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
// Renews the lock only if we still hold it.
const EXTEND_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
// Writes a loaded value only if the key's generation is still the one read before the load: an invalidation in
// between (a write committed after our read of the row) bumped it, and the value may be the old row.
const FILL = `if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;
const INVALIDATE = `redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])`;
// A generation must outlive every load that read it, or it would start again from nothing (the "no generation" a
// load before the first invalidation read) and let that load's fill through. A day is far beyond any load.
const GENERATION_TTL_SECONDS = 86_400;
const POLL_INTERVAL_MS = 20;

const cacheRequests = createCounter(metrics.cacheRequests);
const cacheCoalesced = createCounter(metrics.cacheCoalescedRequests);

interface Envelope<T> {
  v: T | null;
}

/** What a waiting instance saw of the holder's load. */
type Waited<T> =
  | { kind: 'filled'; envelope: Envelope<T> }
  /** The lock is gone without a value: the holder's fill was refused or its load failed, or it died. */
  | { kind: 'released' }
  | { kind: 'timeout' }
  | { kind: 'unavailable' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Cache-aside in Redis with a TTL, negative caching, and stampede protection at two levels:
 * - in this process, concurrent misses for one key share a single load (single flight);
 * - across instances, the first to miss takes a Redis lock (SET NX PX), renewed while it loads, and loads; the
 *   others wait for its value to appear, and take the lock themselves if it goes without one. They stop waiting
 *   after `loadTimeoutMs` and answer from the database.
 * Invalidation bumps a per-key generation, and a fill is written only if the generation it read before loading is
 * unchanged: a load that read the row before a write cannot put the old row back after the write's invalidation.
 * When Redis is unreachable every call is answered by the loader (still single-flight), so reads keep working.
 */
export class CacheAside<T> {
  private readonly inflight = new Map<string, Promise<T | null>>();

  constructor(
    private readonly redis: Redis,
    private readonly options: CacheAsideOptions,
    private readonly logger: Logger,
  ) {
    // Zero-valued series from the start: a hit ratio on an idle cache is 0/0 (no data), not a missing metric.
    for (const result of ['hit', 'miss', 'error'] as const) cacheRequests.inc({ cache_name: options.name, cache_result: result }, 0);
    cacheCoalesced.inc({ cache_name: options.name }, 0);
  }

  private key(id: string): string {
    return `${this.options.name}:${id}`;
  }

  private count(result: 'hit' | 'miss' | 'error'): void {
    cacheRequests.inc({ cache_name: this.options.name, cache_result: result });
  }

  /**
   * The value of `id`, from the cache or loaded. Inside a request nothing here outlasts its deadline: a request out
   * of time touches neither Redis nor the database, and waits (for a load in flight here or at another instance's
   * lock holder) end at the deadline with its problem.
   */
  async get(id: string, load: () => Promise<T | null>): Promise<T | null> {
    checkDeadline('cache');
    const key = this.key(id);
    let cached: string | null;
    try {
      cached = await this.redis.get(key);
    } catch {
      this.count('error');
      return this.singleFlight(key, load);
    }
    if (cached !== null) {
      this.count('hit');
      return (JSON.parse(cached) as Envelope<T>).v;
    }
    this.count('miss');
    return this.singleFlight(key, () => this.loadAndFill(key, load));
  }

  /** Removes a key after its source changed; the next read loads the new value, and no load begun before refills it. */
  async invalidate(id: string): Promise<void> {
    const key = this.key(id);
    try {
      await this.redis.eval(INVALIDATE, 2, key, `gen:${key}`, GENERATION_TTL_SECONDS);
    } catch (err) {
      // Redis is down: nothing can be served from it either, and it restarts empty (no persistence).
      this.logger.warn('cache invalidation failed', { cache: this.options.name, key: id, err: String(err) });
    }
  }

  private singleFlight(key: string, run: () => Promise<T | null>): Promise<T | null> {
    const running = this.inflight.get(key);
    if (running !== undefined) {
      cacheCoalesced.inc({ cache_name: this.options.name });
      // The shared load runs under the deadline of the request that started it; each waiter keeps its own.
      return withinDeadline(running, 'cache-wait');
    }
    const promise = run().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  private async loadAndFill(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const lockKey = `lock:${key}`;
    // A waiter stops at the request's deadline too, and then answers with it instead of loading.
    const left = remainingMs();
    const requestBound = left !== undefined && left < this.options.loadTimeoutMs;
    const deadline = Date.now() + (requestBound ? left : this.options.loadTimeoutMs);
    for (;;) {
      const token = randomUUID();
      let locked: boolean;
      try {
        locked = (await this.redis.set(lockKey, token, 'PX', this.options.lockTtlMs, 'NX')) === 'OK';
      } catch {
        return load();
      }
      if (locked) return this.loadHoldingLock(key, lockKey, token, load);
      const waited = await this.waitForHolder(key, lockKey, deadline);
      if (waited.kind === 'filled') return waited.envelope.v;
      if (waited.kind === 'timeout' && requestBound) throw deadlineExceeded('cache-wait');
      // The holder is slower than a healthy load, or Redis failed: answer from the database, leave the fill to it.
      if (waited.kind !== 'released') return load();
      // The holder left no value: take the lock and load ourselves.
    }
  }

  private async loadHoldingLock(key: string, lockKey: string, token: string, load: () => Promise<T | null>): Promise<T | null> {
    const stopRenewing = this.renewWhileLoading(lockKey, token);
    try {
      let read: (string | null)[];
      try {
        // One read for both, before the load: the generation must be the one in force when we read the row.
        read = await this.redis.mget(key, `gen:${key}`);
      } catch {
        return await load();
      }
      const [cached = null, generation = null] = read;
      // Another loader may have filled the key between our miss and our lock (it held the lock and released it).
      if (cached !== null) return (JSON.parse(cached) as Envelope<T>).v;
      const value = await load();
      await this.fill(key, generation ?? '', value);
      return value;
    } finally {
      stopRenewing();
      await this.release(lockKey, token);
    }
  }

  private async fill(key: string, generation: string, value: T | null): Promise<void> {
    const ttl = value === null ? this.options.negativeTtlSeconds : this.options.ttlSeconds;
    try {
      const written = await this.redis.eval(FILL, 2, key, `gen:${key}`, generation, JSON.stringify({ v: value } satisfies Envelope<T>), ttl);
      if (written === 0) this.logger.debug('cache fill skipped: invalidated during the load', { key });
    } catch (err) {
      this.logger.debug('cache fill failed', { key, err: String(err) });
    }
  }

  /**
   * Keeps the lock while the load runs, however long a slow database makes it: an expired lock would let another
   * instance load the same key. Stops by itself once the lock is no longer ours.
   */
  private renewWhileLoading(lockKey: string, token: string): () => void {
    const timer = setInterval(() => {
      this.redis.eval(EXTEND_LOCK, 1, lockKey, token, this.options.lockTtlMs).then(
        (renewed) => {
          if (renewed === 0) clearInterval(timer);
        },
        () => undefined, // Redis is failing: the lock expires by itself, and the next tick tries again
      );
    }, Math.max(1, Math.floor(this.options.lockTtlMs / 3)));
    timer.unref();
    return () => clearInterval(timer);
  }

  private async release(lockKey: string, token: string): Promise<void> {
    try {
      await this.redis.eval(RELEASE_LOCK, 1, lockKey, token);
    } catch {
      // the lock expires by itself
    }
  }

  /** Polls for the value the lock's holder is loading, until `deadline`. */
  private async waitForHolder(key: string, lockKey: string, deadline: number): Promise<Waited<T>> {
    while (Date.now() < deadline) {
      await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
      let read: (string | null)[];
      try {
        read = await this.redis.mget(key, lockKey);
      } catch {
        return { kind: 'unavailable' };
      }
      const [cached = null, lock = null] = read;
      if (cached !== null) return { kind: 'filled', envelope: JSON.parse(cached) as Envelope<T> };
      if (lock === null) return { kind: 'released' };
    }
    return { kind: 'timeout' };
  }
}
