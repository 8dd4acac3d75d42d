// Benchmark: cache hit ratio and database queries per request of the catalog under Zipf-distributed reads,
// measured from the service's own /metrics, against the ceiling of the same read sequence. Starts its own
// Postgres, Redis and catalog on loopback.
//   npm run bench:cache                 (at the repository root)
//   BENCH_READS=100000 BENCH_WINDOW=10000 BENCH_CONCURRENCY=16 BENCH_ZIPF_S=0.8,1.0,1.2
//   BENCH_TTL_READS=30000 BENCH_TTL_SECONDS=3 BENCH_TTL_RATE=1000   (the TTL-bound phase; BENCH_TTL_READS=0 skips it)
import { createHash } from 'node:crypto';
import { envInt, parseEnv } from '@lookout/config';
import { percentile, seededRandom, Zipf } from '@lookout/loadgen';
import { metrics } from '@lookout/telemetry/contract';
import { runBench, scrape, ShopStack, sleep, sumOf, waitFor, writeBenchResult, type ServiceProcess } from '@lookout/testkit';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { loadConfig } from '../src/config.js';
import { ceilingOver, firstTouches, rateForTtlHitRatio, ttlHitRatio, warmUpReads } from './ceiling.js';

const env = parseEnv(
  z
    .object({
      BENCH_READS: envInt(100_000, 100, 10_000_000),
      BENCH_WINDOW: envInt(10_000, 100, 1_000_000),
      BENCH_CONCURRENCY: envInt(16, 1, 1_000),
      BENCH_ZIPF_S: z
        .string()
        .regex(/^\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*$/, 'expected comma-separated exponents, e.g. 0.8,1.0,1.2')
        .default('0.8,1.0,1.2')
        .transform((v) => v.split(',').map(Number)),
      BENCH_TTL_READS: envInt(30_000, 0, 10_000_000),
      BENCH_TTL_SECONDS: envInt(3, 1, 300),
      BENCH_TTL_RATE: envInt(1_000, 1, 100_000),
    })
    .superRefine((e, ctx) => {
      // cold and warm are the first two windows, and every window is whole
      if (e.BENCH_READS % e.BENCH_WINDOW !== 0 || e.BENCH_READS < 2 * e.BENCH_WINDOW) {
        ctx.addIssue({ code: 'custom', path: ['BENCH_READS'], message: `expected a multiple of BENCH_WINDOW (${e.BENCH_WINDOW}), at least two` });
      }
      if (e.BENCH_TTL_READS !== 0 && e.BENCH_TTL_READS <= e.BENCH_WINDOW) {
        ctx.addIssue({ code: 'custom', path: ['BENCH_TTL_READS'], message: `expected 0 (skip) or more than BENCH_WINDOW (${e.BENCH_WINDOW})` });
      }
    }),
);

const PRODUCTS = 10_000;
const SEED = 20261122;
/** "95% less database load": at most this many queries per request, against 1.0 without a cache. */
const TARGET_DB_QUERIES_PER_REQUEST = 0.05;
const DEFAULT_TTL_SECONDS = loadConfig({}).cache.ttlSeconds;
const MODEL_RATES = [1, 10, 100, 1_000];

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

interface Counters {
  hit: number;
  miss: number;
  error: number;
  dbGets: number;
  coalesced: number;
}

async function counters(service: ServiceProcess): Promise<Counters> {
  const s = await scrape(service.managementUrl);
  return {
    hit: sumOf(s, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'hit' }),
    miss: sumOf(s, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'miss' }),
    error: sumOf(s, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'error' }),
    dbGets: sumOf(s, `${metrics.dbClientOperationDuration.name}_count`, { db_operation_name: 'products.get_by_id' }),
    coalesced: sumOf(s, metrics.cacheCoalescedRequests.name, { cache_name: 'product' }),
  };
}

/**
 * Reads `ids` in order with CONCURRENCY workers, as fast as answered or, given `rate`, each read at its slot of a
 * fixed schedule (requests/s). Counts come from the catalog's /metrics before and after.
 */
async function readWindow(service: ServiceProcess, ids: Uint32Array, rate?: number) {
  const before = await counters(service);
  const latencies: number[] = [];
  let issued = 0;
  let failures = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < ids.length) {
      const i = issued++;
      if (rate !== undefined) {
        const wait = started + (i * 1000) / rate - performance.now();
        if (wait > 0) await sleep(wait);
      }
      const t0 = performance.now();
      const res = await fetch(`${service.baseUrl}/products/${ids[i]}`);
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 200) failures++;
    }
  };
  await Promise.all(Array.from({ length: env.BENCH_CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const after = await counters(service);
  latencies.sort((a, b) => a - b);
  const hit = after.hit - before.hit;
  const miss = after.miss - before.miss;
  return {
    reads: ids.length,
    failures,
    cacheHits: hit,
    cacheMisses: miss,
    cacheErrors: after.error - before.error,
    hitRatio: round(hit / (hit + miss)),
    dbQueries: after.dbGets - before.dbGets,
    dbQueriesPerRequest: round((after.dbGets - before.dbGets) / ids.length),
    coalescedMisses: after.coalesced - before.coalesced,
    requestsPerSecond: Math.round(ids.length / seconds),
    latencyMs: { p50: round(percentile(latencies, 0.5), 2), p99: round(percentile(latencies, 0.99), 2) },
  };
}

/** The exact read sequence for exponent s: the same for every run, so its ceiling is that of the reads sent. */
function sequence(s: number, reads: number): { ids: Uint32Array; probabilities: Float64Array } {
  const zipf = new Zipf(PRODUCTS, s, seededRandom(SEED));
  const ids = Uint32Array.from({ length: reads }, () => zipf.next());
  const probabilities = Float64Array.from({ length: PRODUCTS }, (_, i) => zipf.probability(i + 1));
  return { ids, probabilities };
}

const sha256 = (ids: Uint32Array) => createHash('sha256').update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength)).digest('hex');

/** Empties the cache (Redis runs without persistence, so a restart does) and waits until the catalog uses it again. */
async function emptyCache(stack: ShopStack, catalog: ServiceProcess): Promise<void> {
  await stack.redis.stop();
  await stack.redis.start();
  await waitFor('the catalog to reconnect to Redis', async () => {
    const res = await fetch(`${catalog.managementUrl}/readyz`);
    const report = (await res.json()) as { status?: string };
    return report.status === 'ready' ? true : undefined;
  });
}

/** What Redis holds and did: whether capacity (evictions) or the TTL (expiries) took anything from the cache. */
async function redisState(url: string) {
  const client = new Redis(url, { lazyConnect: true });
  try {
    await client.connect();
    const info = `${await client.info('memory')}\n${await client.info('stats')}`;
    const field = (name: string) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? NaN);
    const [, maxmemory = '0'] = (await client.config('GET', 'maxmemory')) as string[];
    return {
      keys: await client.dbsize(),
      usedMemoryBytes: field('used_memory'),
      maxmemoryBytes: Number(maxmemory),
      expiredKeys: field('expired_keys'),
      evictedKeys: field('evicted_keys'),
    };
  } finally {
    client.disconnect();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

async function main(): Promise<void> {
  const { BENCH_READS: READS, BENCH_WINDOW: WINDOW } = env;
  const stack = await ShopStack.start({ start: ['catalog'], env: { catalog: { SEED_PRODUCTS: String(PRODUCTS), LOG_LEVEL: 'warn' } } });
  let catalog = stack.service('catalog');
  const results = [];
  const ttlBound = [];
  try {
    for (const s of env.BENCH_ZIPF_S) {
      await emptyCache(stack, catalog);
      const { ids, probabilities } = sequence(s, READS);
      const first = firstTouches(ids);
      const started = performance.now();
      const windows = [];
      for (let from = 0; from < READS; from += WINDOW) {
        const measured = await readWindow(catalog, ids.subarray(from, from + WINDOW));
        const ceiling = ceilingOver(first, from, from + WINDOW);
        windows.push({
          fromRead: from + 1,
          toRead: from + WINDOW,
          ...measured,
          ceilingHitRatio: round(ceiling.hitRatio),
          ceilingDbQueriesPerRequest: round(ceiling.dbQueriesPerRequest),
        });
      }
      const seconds = (performance.now() - started) / 1000;
      const [cold, warm] = windows;
      const steady = windows.at(-1);
      if (cold === undefined || warm === undefined || steady === undefined) throw new Error('fewer than two windows');
      const whole = ceilingOver(first, 0, READS);
      const reachedAt = windows.find((w) => w.dbQueriesPerRequest <= TARGET_DB_QUERIES_PER_REQUEST);
      const idealWarmUp = warmUpReads(first, WINDOW, TARGET_DB_QUERIES_PER_REQUEST, 1_000);
      const redis = await redisState(stack.redis.url);
      results.push({
        zipfExponent: s,
        sequenceSha256: sha256(ids),
        seconds: round(seconds, 1),
        cold,
        warm,
        steady,
        ceiling: {
          distinctIds: first.reduce((n, f) => n + f, 0),
          hitRatioAllReads: round(whole.hitRatio),
          coldHitRatio: cold.ceilingHitRatio,
          steadyHitRatio: steady.ceilingHitRatio,
          steadyDbQueriesPerRequest: steady.ceilingDbQueriesPerRequest,
          readsBeforeWindowAtTarget: idealWarmUp,
        },
        readsBeforeWindowAtTarget: reachedAt === undefined ? null : reachedAt.fromRead - 1,
        redis,
        ttlModelAtDefaultTtl: {
          ttlSeconds: DEFAULT_TTL_SECONDS,
          hitRatioAtRequestsPerSecond: Object.fromEntries(MODEL_RATES.map((r) => [r, round(ttlHitRatio(probabilities, r, DEFAULT_TTL_SECONDS))])),
          requestsPerSecondForTarget: round(rateForTtlHitRatio(probabilities, DEFAULT_TTL_SECONDS, 1 - TARGET_DB_QUERIES_PER_REQUEST), 0),
        },
        windows,
      });
      process.stdout.write(
        `s=${s.toFixed(1)}  ${READS} reads in ${seconds.toFixed(0)} s | cold: hit ${pct(cold.hitRatio)} (ceiling ${pct(cold.ceilingHitRatio)}) | ` +
          `reads ${steady.fromRead}-${steady.toRead}: hit ${pct(steady.hitRatio)} (ceiling ${pct(steady.ceilingHitRatio)}), ` +
          `${steady.dbQueriesPerRequest} DB queries/request | <= ${TARGET_DB_QUERIES_PER_REQUEST} after ` +
          `${reachedAt === undefined ? 'never' : reachedAt.fromRead - 1} reads (ceiling ${idealWarmUp ?? 'never'}) | ` +
          `redis: ${redis.keys} keys, ${(redis.usedMemoryBytes / 2 ** 20).toFixed(1)} MiB, ${redis.expiredKeys} expired, ${redis.evictedKeys} evicted\n`,
      );
    }

    if (env.BENCH_TTL_READS > 0) {
      // A TTL short against the run, at a fixed rate: the regime of a production catalog whose reads per TTL are few.
      await catalog.stop();
      catalog = await stack.startService('catalog', { CACHE_TTL_SECONDS: String(env.BENCH_TTL_SECONDS) });
      for (const s of env.BENCH_ZIPF_S) {
        await emptyCache(stack, catalog);
        const { ids, probabilities } = sequence(s, env.BENCH_TTL_READS);
        const warmUp = env.BENCH_TTL_READS - WINDOW;
        await readWindow(catalog, ids.subarray(0, warmUp), env.BENCH_TTL_RATE);
        const measured = await readWindow(catalog, ids.subarray(warmUp), env.BENCH_TTL_RATE);
        const model = ttlHitRatio(probabilities, measured.requestsPerSecond, env.BENCH_TTL_SECONDS);
        const ceiling = ceilingOver(firstTouches(ids), warmUp, env.BENCH_TTL_READS);
        const redis = await redisState(stack.redis.url);
        ttlBound.push({
          zipfExponent: s,
          fromRead: warmUp + 1,
          toRead: env.BENCH_TTL_READS,
          ...measured,
          // the hit ratio depends on reads per TTL: this many reads/s at the default TTL give the same
          equivalentRequestsPerSecondAtDefaultTtl: round((measured.requestsPerSecond * env.BENCH_TTL_SECONDS) / DEFAULT_TTL_SECONDS, 2),
          modelHitRatio: round(model),
          ceilingHitRatio: round(ceiling.hitRatio),
          redis,
        });
        process.stdout.write(
          `s=${s.toFixed(1)}  TTL ${env.BENCH_TTL_SECONDS} s at ${measured.requestsPerSecond} req/s: hit ${pct(measured.hitRatio)} ` +
            `(TTL model ${pct(model)}, ceiling ${pct(ceiling.hitRatio)}), ${redis.expiredKeys} keys expired\n`,
        );
      }
    }
  } finally {
    await stack.stop();
  }
  writeBenchResult('catalog-cache.json', 'catalog cache-aside under Zipf-distributed reads', {
    products: PRODUCTS,
    concurrency: env.BENCH_CONCURRENCY,
    cacheTtlSeconds: DEFAULT_TTL_SECONDS,
    reads: READS,
    window: WINDOW,
    seed: SEED,
    targetDbQueriesPerRequest: TARGET_DB_QUERIES_PER_REQUEST,
    note:
      `one seeded sequence of ${READS} reads per exponent from an empty cache, measured in windows of ${WINDOW}: ` +
      'cold = the first window, warm = the second, steady = the last. ceiling = an infinite cache that never expires on ' +
      'the same sequence (only first requests of an id miss). readsBeforeWindowAtTarget = reads before the first window ' +
      `with at most ${TARGET_DB_QUERIES_PER_REQUEST} DB queries/request (ceiling: windows starting every 1000 reads). ` +
      'ttlModelAtDefaultTtl = hit ratio of a fill-time TTL under independent reads at a given rate (model, not measured). ' +
      'ttlBound = measured with a short TTL at a fixed rate: the last window after a warm-up of several TTLs.',
    results,
    ttlBound: {
      ttlSeconds: env.BENCH_TTL_SECONDS,
      requestsPerSecond: env.BENCH_TTL_RATE,
      reads: env.BENCH_TTL_READS,
      results: ttlBound,
    },
  });
}

runBench(main);
