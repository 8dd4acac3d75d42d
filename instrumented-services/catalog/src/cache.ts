import { randomUUID } from 'node:crypto';
import { createCounter, metrics, type Logger } from '@lookout/telemetry';
import type { Redis } from 'ioredis';

export interface CacheAsideOptions {
  /** Metric label and key namespace, e.g. `product`. */
  name: string;
  ttlSeconds: number;
  /** How long a "not found" is remembered, so that misses for absent keys do not all reach the database. */
  negativeTtlSeconds: number;
  /** How long one instance may hold the load lock for a key before another loads it anyway. */
  lockTtlMs: number;
}

// Deletes the lock only if we still hold it: a lock that expired and was taken by another loader stays.
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const POLL_INTERVAL_MS = 20;

const cacheRequests = createCounter(metrics.cacheRequests);
const cacheCoalesced = createCounter(metrics.cacheCoalescedRequests);

interface Envelope<T> {
  v: T | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Cache-aside in Redis with a TTL, negative caching, and stampede protection at two levels:
 * - in this process, concurrent misses for one key share a single load (single flight);
 * - across instances, the first to miss takes a short Redis lock (SET NX PX) and loads; the others wait for its
 *   value to appear, and load themselves only if the lock expires first.
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

  async get(id: string, load: () => Promise<T | null>): Promise<T | null> {
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

  /** Removes a key after its source changed; the next read loads the new value. */
  async invalidate(id: string): Promise<void> {
    try {
      await this.redis.del(this.key(id));
    } catch (err) {
      // Redis is down: nothing can be served from it either, and it restarts empty (no persistence).
      this.logger.warn('cache invalidation failed', { cache: this.options.name, key: id, err: String(err) });
    }
  }

  private singleFlight(key: string, run: () => Promise<T | null>): Promise<T | null> {
    const running = this.inflight.get(key);
    if (running !== undefined) {
      cacheCoalesced.inc({ cache_name: this.options.name });
      return running;
    }
    const promise = run().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  private async loadAndFill(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const lockKey = `lock:${key}`;
    const token = randomUUID();
    let locked: boolean;
    try {
      locked = (await this.redis.set(lockKey, token, 'PX', this.options.lockTtlMs, 'NX')) === 'OK';
    } catch {
      return load();
    }
    // Another loader may have filled the key between our miss and our lock (it held the lock and released it):
    // look again before loading, or wait for the holder's value.
    const loadedElsewhere = locked ? await this.peek(key) : await this.waitForFill(key);
    if (loadedElsewhere !== undefined) {
      if (locked) await this.release(lockKey, token);
      return loadedElsewhere.v;
    }
    const value = await load();
    try {
      const ttl = value === null ? this.options.negativeTtlSeconds : this.options.ttlSeconds;
      await this.redis.set(key, JSON.stringify({ v: value } satisfies Envelope<T>), 'EX', ttl);
    } catch (err) {
      this.logger.debug('cache fill failed', { key, err: String(err) });
    }
    if (locked) await this.release(lockKey, token);
    return value;
  }

  private async release(lockKey: string, token: string): Promise<void> {
    try {
      await this.redis.eval(RELEASE_LOCK, 1, lockKey, token);
    } catch {
      // the lock expires by itself
    }
  }

  private async peek(key: string): Promise<Envelope<T> | undefined> {
    try {
      const cached = await this.redis.get(key);
      return cached === null ? undefined : (JSON.parse(cached) as Envelope<T>);
    } catch {
      return undefined;
    }
  }

  /** Polls for the value another instance is loading, for at most the lock's lifetime. */
  private async waitForFill(key: string): Promise<Envelope<T> | undefined> {
    const deadline = Date.now() + this.options.lockTtlMs;
    while (Date.now() < deadline) {
      await sleep(POLL_INTERVAL_MS);
      const found = await this.peek(key);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}
