// Benchmark: cache hit ratio and database queries per request of the catalog under Zipf-distributed reads,
// measured from the service's own /metrics. Starts its own Postgres, Redis and catalog on loopback.
//   npm run bench                       (at the repository root)
//   BENCH_READS=10000 BENCH_CONCURRENCY=16 BENCH_ZIPF_S=0.8,1.0,1.2
import { percentile, seededRandom, Zipf } from '@lookout/loadgen';
import { metrics } from '@lookout/telemetry/contract';
import { runBench, scrape, ShopStack, sumOf, writeBenchResult, type ServiceProcess } from '@lookout/testkit';

const READS = Number(process.env.BENCH_READS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const EXPONENTS = (process.env.BENCH_ZIPF_S ?? '0.8,1.0,1.2').split(',').map(Number);
const PRODUCTS = 10_000;

interface Counters {
  hit: number;
  miss: number;
  error: number;
  dbGets: number;
  coalesced: number;
}

async function counters(service: ServiceProcess): Promise<Counters> {
  const s = await scrape(service.baseUrl);
  return {
    hit: sumOf(s, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'hit' }),
    miss: sumOf(s, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'miss' }),
    error: sumOf(s, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'error' }),
    dbGets: sumOf(s, `${metrics.dbClientOperationDuration.name}_count`, { db_operation_name: 'products.get_by_id' }),
    coalesced: sumOf(s, metrics.cacheCoalescedRequests.name, { cache_name: 'product' }),
  };
}


async function readPass(service: ServiceProcess, zipf: Zipf) {
  const before = await counters(service);
  const latencies: number[] = [];
  let issued = 0;
  let failures = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < READS) {
      issued++;
      const id = zipf.next();
      const t0 = performance.now();
      const res = await fetch(`${service.baseUrl}/products/${id}`);
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 200) failures++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const after = await counters(service);
  latencies.sort((a, b) => a - b);
  const hit = after.hit - before.hit;
  const miss = after.miss - before.miss;
  return {
    reads: READS,
    failures,
    cacheHits: hit,
    cacheMisses: miss,
    cacheErrors: after.error - before.error,
    hitRatio: Number((hit / (hit + miss)).toFixed(4)),
    dbQueries: after.dbGets - before.dbGets,
    dbQueriesPerRequest: Number(((after.dbGets - before.dbGets) / READS).toFixed(4)),
    coalescedMisses: after.coalesced - before.coalesced,
    requestsPerSecond: Math.round(READS / seconds),
    latencyMs: { p50: Number(percentile(latencies, 0.5).toFixed(2)), p99: Number(percentile(latencies, 0.99).toFixed(2)) },
  };
}

async function main(): Promise<void> {
  const stack = await ShopStack.start({ start: ['catalog'], env: { catalog: { SEED_PRODUCTS: String(PRODUCTS), LOG_LEVEL: 'warn' } } });
  const catalog = stack.service('catalog');
  const redis = stack.redis;
  const results = [];
  try {
    for (const s of EXPONENTS) {
      // Each exponent starts from an empty cache: Redis runs without persistence, so a restart empties it.
      await redis.stop();
      await redis.start();
      await new Promise((resolve) => setTimeout(resolve, 2500)); // the client reconnects
      const zipf = new Zipf(PRODUCTS, s, seededRandom(20261122));
      const cold = await readPass(catalog, zipf);
      const warm = await readPass(catalog, zipf);
      results.push({ zipfExponent: s, cold, warm });
      process.stdout.write(
        `s=${s.toFixed(1)}  cold: hit ratio ${(cold.hitRatio * 100).toFixed(1)}%, ${cold.dbQueriesPerRequest} DB queries/request, ` +
          `${cold.requestsPerSecond} req/s, p99 ${cold.latencyMs.p99} ms | warm: hit ratio ${(warm.hitRatio * 100).toFixed(1)}%, ` +
          `${warm.dbQueriesPerRequest} DB queries/request\n`,
      );
    }
  } finally {
    await stack.stop();
  }
  writeBenchResult('catalog-cache.json', 'catalog cache-aside under Zipf-distributed reads', {
    products: PRODUCTS,
    concurrency: CONCURRENCY,
    cacheTtlSeconds: 300,
    note: 'cold = first READS reads on an empty cache; warm = the next READS reads with the same distribution',
    results,
  });
}

runBench(main);
