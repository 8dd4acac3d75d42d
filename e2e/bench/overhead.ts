// Benchmark: what Lookout's instrumentation costs. The same service and request under four variants — no telemetry,
// Lookout's at 100% and at 10% trace sampling, OpenTelemetry's zero-code setup — measured side by side in one run,
// round-robin, so that the machine's drift over the run falls on every variant alike. Three workloads: a catalog
// cache hit, a catalog cache miss (Redis and Postgres), and the gateway calling a catalog.
// Each round and variant: an autocannon run at fixed concurrency (throughput), then one at a fixed rate every variant
// sustains (p50/p99, the services' own CPU-seconds per 1,000 requests from /proc, RSS at its end). Traces and logs go
// over OTLP/HTTP to a DiscardSink per variant, the stand-in for an OpenTelemetry Collector (none is built on this
// machine): it reads and counts the bytes, so the run shows that each instrumented variant really exported.
//   npm run bench:overhead                                    (at the repository root)
//   BENCH_ROUNDS=1 BENCH_SECONDS=2                            a quick look
//   BENCH_CONNECTIONS, BENCH_RATE (the fixed-rate run), BENCH_WARMUP_SECONDS, BENCH_WORKLOADS=cache-hit,…,
//   BENCH_VARIANTS=lookout,… (none is always run), BENCH_CPU_PROF=<dir> (--cpu-prof for the services)
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { percentile } from '@lookout/loadgen';
import { service, serviceEnvironment, type Wiring } from '@lookout/stack';
import { metrics } from '@lookout/telemetry/contract';
import { BENCH_RESULTS, freePort, READ_KEY, runBench, scrape, serviceEntry, ShopStack, sleep, sumOf } from '@lookout/testkit';
import { DiscardSink } from './overhead/discard-sink.js';
import { cpuSeconds, pinSelf, rssMiB, tasksetPath } from './overhead/proc.js';
import { BenchService } from './overhead/service.js';
import { ratio, spread, type Spread } from './overhead/spread.js';
import { selectedVariants, type Variant, type VariantName } from './overhead/variants.js';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: expected a positive number, got "${raw}"`);
  return value;
}

const ROUNDS = envNumber('BENCH_ROUNDS', 5);
const SECONDS = envNumber('BENCH_SECONDS', 10);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 32);
// Low enough that every variant keeps it in every workload on a shared two-core machine (the slowest, zero-code
// gateway in front of a catalog, managed about 110/s there): latency is measured below saturation, not queueing.
const FIXED_RATE = envNumber('BENCH_RATE', 100);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 5);
const CPU_PROFILE_DIR = process.env.BENCH_CPU_PROF;
// Fewer connections than the throughput run: at a fixed rate they only need to carry it without queueing.
const FIXED_CONNECTIONS = Math.min(CONNECTIONS, 8);
const PRODUCTS = 10_000;
const SERVICE_CPU = 0;
const LOAD_CPU = 1;
const TARGETS = { cpuPerRequest: 1.1, throughput: 0.9, p99: 1.1 };

type WorkloadName = 'cache-hit' | 'cache-miss' | 'gateway-catalog';

/** The processes of one variant of a workload, and the request to send them. */
interface Deployment {
  services: BenchService[];
  url: string;
  headers: Record<string, string>;
  /** The catalog whose cache counters are read, to show the hit or miss share the workload claims. */
  catalog: BenchService;
}

interface Workload {
  name: WorkloadName;
  description: string;
  /** Each request's path, when it changes from one request to the next. */
  nextPath?: () => string;
  deploy: (variant: Variant, otlpEndpoint: string) => Promise<Deployment>;
}

interface RoundSample {
  rps: number;
  p50: number;
  p99: number;
  cpuPer1000: number;
  rss: number;
}

interface VariantRun {
  variant: Variant;
  sink: DiscardSink;
  deployment: Deployment;
  samples: RoundSample[];
  requests: number;
  cacheBefore: CacheCounts;
}

interface CacheCounts {
  hit: number;
  miss: number;
}

async function cacheCounts(catalog: BenchService): Promise<CacheCounts> {
  const samples = await scrape(catalog.baseUrl);
  return {
    hit: sumOf(samples, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'hit' }),
    miss: sumOf(samples, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'miss' }),
  };
}

async function main(): Promise<void> {
  const taskset = tasksetPath();
  const pinned = taskset !== undefined && cpus().length >= 2;
  // Everything but the measured services — this process (load tool and OTLP sinks), and Postgres and Redis, which
  // it starts — runs on the other core, so that the services' core does nothing else.
  if (pinned) pinSelf(taskset, LOAD_CPU);
  const pin = pinned ? { path: taskset, cpu: SERVICE_CPU } : undefined;
  const variants = selectedVariants(process.env.BENCH_VARIANTS);
  process.stdout.write(
    `overhead bench: ${ROUNDS} rounds x ${SECONDS} s, ${CONNECTIONS} connections, fixed rate ${FIXED_RATE}/s, ` +
      (pinned ? `services pinned to cpu ${SERVICE_CPU}, load tool, sinks, Postgres and Redis to cpu ${LOAD_CPU} (taskset)\n` : 'not pinned (no taskset or one cpu)\n'),
  );

  // ShopStack starts Postgres and Redis and lets a catalog migrate and seed the database once; the bench's own
  // catalogs (one per variant) then share them.
  const stack = await ShopStack.start({ start: ['catalog'], env: { catalog: { SEED_PRODUCTS: String(PRODUCTS), LOG_LEVEL: 'warn' } } });
  await stack.service('catalog').stop();

  const environment = (name: string, otlpEndpoint: string, calls: Record<string, string>): Record<string, string> => {
    const wiring: Wiring = {
      environment: 'bench',
      host: '127.0.0.1',
      otlpEndpoint,
      demo: 'true',
      adminToken: '',
      inboundTraceContext: 'link',
      port: () => 0,
      managementPort: () => 0,
      managementHost: '127.0.0.1',
      postgresUrl: (db) => stack.postgres.url(db),
      redisUrl: stack.redis.url,
      rabbitmqUrl: '',
      serviceUrl: (callee) => calls[callee] ?? 'http://127.0.0.1:9',
    };
    return serviceEnvironment(service(name), wiring);
  };
  let profiled = 0;
  const start = async (name: string, variant: Variant, env: Record<string, string>): Promise<BenchService> => {
    if (env.MANAGEMENT_PORT !== undefined) env.MANAGEMENT_PORT = String(await freePort());
    const nodeArgs = CPU_PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`, `--cpu-prof-name=${name}-${variant.name}-${++profiled}.cpuprofile`];
    return BenchService.start({
      name: `${name} (${variant.name})`,
      entry: serviceEntry(name),
      preload: variant.preload,
      env: { ...env, ...variant.env, SEED_PRODUCTS: String(PRODUCTS) },
      taskset: pin,
      nodeArgs,
    });
  };
  const catalogAlone = (extra: Record<string, string>) => async (variant: Variant, otlpEndpoint: string): Promise<Deployment> => {
    const catalog = await start('catalog', variant, { ...environment('catalog', otlpEndpoint, {}), ...extra });
    return { services: [catalog], url: `${catalog.baseUrl}/products/1`, headers: {}, catalog };
  };
  let cursor = 0;

  const workloads: Workload[] = [
    {
      name: 'cache-hit',
      description: 'catalog GET /products/1, always the same id: served from Redis after the first read',
      deploy: catalogAlone({}),
    },
    {
      name: 'cache-miss',
      description:
        `catalog GET /products/:id over ids 1..${PRODUCTS} in turn with CACHE_TTL_SECONDS=1, so that an id is asked again ` +
        'only after its entry expired: each read misses Redis and takes the load lock, reads Postgres and fills Redis',
      nextPath: () => `/products/${(cursor++ % PRODUCTS) + 1}`,
      deploy: catalogAlone({ CACHE_TTL_SECONDS: '1' }),
    },
    {
      name: 'gateway-catalog',
      description:
        'gateway GET /api/products/1 with an API key (authentication, the Redis rate limit, the upstream call) in front of ' +
        'a catalog answering from its cache; both processes run the variant and share the service core, CPU and RSS are their sum',
      deploy: async (variant, otlpEndpoint) => {
        const catalog = await start('catalog', variant, environment('catalog', otlpEndpoint, {}));
        const gateway = await start('gateway', variant, {
          ...environment('gateway', otlpEndpoint, { catalog: catalog.baseUrl }),
          RATE_LIMIT_REQUESTS: '10000000',
          RATE_LIMIT_IP_REQUESTS: '10000000',
        });
        return { services: [gateway, catalog], url: `${gateway.baseUrl}/api/products/1`, headers: { 'x-api-key': READ_KEY }, catalog };
      },
    },
  ];
  const chosen = (process.env.BENCH_WORKLOADS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = chosen.filter((n) => !workloads.some((w) => w.name === n));
  if (unknown.length > 0) throw new Error(`BENCH_WORKLOADS: unknown ${unknown.join(', ')}`);

  const report = [];
  try {
    for (const workload of workloads.filter((w) => chosen.length === 0 || chosen.includes(w.name))) {
      report.push(await runWorkload(workload, variants));
    }
  } finally {
    await stack.stop();
  }
  const out = path.join(BENCH_RESULTS, 'overhead.json');
  mkdirSync(BENCH_RESULTS, { recursive: true });
  const result = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    config: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, fixedRate: FIXED_RATE, pinned },
    workloads: report,
    targets: TARGETS,
  };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`written to ${out}\n`);
}

/**
 * One autocannon run against a deployment; refuses a run with more than 1% failures, as its figures would lie.
 * Latencies are taken from each response rather than from autocannon's histogram, which keeps whole milliseconds.
 */
async function cannon(workload: Workload, deployment: Deployment, options: { seconds: number; connections: number; rate?: number }) {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: deployment.url,
        connections: options.connections,
        duration: options.seconds,
        headers: deployment.headers,
        ...(options.rate !== undefined && { overallRate: options.rate }),
        ...(workload.nextPath !== undefined && {
          requests: [{ setupRequest: (request: autocannon.Request) => ({ ...request, path: workload.nextPath?.() ?? '/' }) }],
        }),
      },
      (err: unknown, done: autocannon.Result) => {
        if (err === null || err === undefined) resolve(done);
        else reject(err instanceof Error ? err : new Error(`autocannon failed: ${JSON.stringify(err)}`));
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  const answered = result['2xx'] + result.non2xx;
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0.01 * Math.max(1, answered)) {
    throw new Error(`${workload.name}: ${failed} of ${answered} requests failed (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})`);
  }
  if (failed > 0) process.stdout.write(`  warning: ${failed} failed requests in ${workload.name}\n`);
  latencies.sort((a, b) => a - b);
  return { result, answered, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

const sumOver = (services: readonly BenchService[], read: (pid: number) => number) => services.reduce((sum, s) => sum + read(s.pid), 0);

async function measure(workload: Workload, run: VariantRun): Promise<RoundSample> {
  const { deployment } = run;
  const max = await cannon(workload, deployment, { seconds: SECONDS, connections: CONNECTIONS });
  // Lets the batch processors send what the throughput run left queued before the CPU clock starts.
  await sleep(1_000);
  const cpuBefore = sumOver(deployment.services, cpuSeconds);
  const fixed = await cannon(workload, deployment, { seconds: SECONDS, connections: FIXED_CONNECTIONS, rate: FIXED_RATE });
  const cpuUsed = sumOver(deployment.services, cpuSeconds) - cpuBefore;
  const rss = sumOver(deployment.services, rssMiB);
  if (fixed.answered < 0.95 * FIXED_RATE * SECONDS) {
    process.stdout.write(`  warning: ${run.variant.name} answered ${fixed.answered} requests at a fixed ${FIXED_RATE}/s for ${SECONDS} s: it did not keep up\n`);
  }
  run.requests += max.answered + fixed.answered;
  await sleep(1_000);
  return {
    rps: max.result['2xx'] / max.result.duration,
    p50: fixed.p50,
    p99: fixed.p99,
    cpuPer1000: (cpuUsed / Math.max(1, fixed.answered)) * 1000,
    rss,
  };
}

async function runWorkload(workload: Workload, variants: readonly Variant[]) {
  process.stdout.write(`\n${workload.name}: ${workload.description}\n`);
  const runs: VariantRun[] = [];
  try {
    for (const variant of variants) {
      const sink = await DiscardSink.start();
      const deployment = await workload.deploy(variant, sink.endpoint);
      const run: VariantRun = { variant, sink, deployment, samples: [], requests: 0, cacheBefore: { hit: 0, miss: 0 } };
      runs.push(run);
      // JIT, connection pools and the cache of the hit workloads, before anything is measured.
      const warm = await cannon(workload, deployment, { seconds: WARMUP_SECONDS, connections: CONNECTIONS });
      run.requests += warm.answered;
    }
    for (const run of runs) run.cacheBefore = await cacheCounts(run.deployment.catalog);
    for (let round = 0; round < ROUNDS; round++) {
      // Each round starts with the next variant, so that none is always the one measured first or last.
      for (let i = 0; i < runs.length; i++) {
        const run = runs[(round + i) % runs.length];
        if (run === undefined) continue;
        const sample = await measure(workload, run);
        run.samples.push(sample);
        process.stdout.write(
          `  round ${round + 1} ${run.variant.name.padEnd(13)} ${Math.round(sample.rps)} req/s, p50 ${sample.p50.toFixed(2)} ms, p99 ${sample.p99.toFixed(2)} ms ` +
            `at ${FIXED_RATE}/s, ${sample.cpuPer1000.toFixed(3)} cpu-s/1000 req, rss ${sample.rss.toFixed(0)} MiB\n`,
        );
      }
    }
    // The batch processors' last exports, so that the byte counts hold the whole run.
    await sleep(6_000);
    const notes: string[] = [];
    for (const run of runs) {
      const after = await cacheCounts(run.deployment.catalog);
      const hits = after.hit - run.cacheBefore.hit;
      const misses = after.miss - run.cacheBefore.miss;
      const share = workload.name === 'cache-miss' ? `misses ${pct(misses, hits + misses)}` : `hits ${pct(hits, hits + misses)}`;
      const kib = run.sink.bytes / 1024 / Math.max(1, run.requests / 1000);
      notes.push(`${run.variant.name}: cache ${share}, OTLP sink ${kib.toFixed(1)} KiB per 1,000 requests (${run.sink.requests} exports)`);
    }
    for (const note of notes) process.stdout.write(`  ${note}\n`);
    return summarise(workload, runs, notes);
  } finally {
    for (const run of runs) {
      await Promise.all(run.deployment.services.map((s) => s.stop()));
      await run.sink.stop();
    }
  }
}

const pct = (part: number, whole: number) => (whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)}%`);

function summarise(workload: Workload, runs: readonly VariantRun[], notes: readonly string[]) {
  const summaries = runs.map((run) => ({
    run,
    throughputRps: spread(run.samples.map((s) => s.rps), 0),
    p50Ms: spread(run.samples.map((s) => s.p50), 2),
    p99Ms: spread(run.samples.map((s) => s.p99), 2),
    cpuSecondsPer1000: spread(run.samples.map((s) => s.cpuPer1000), 4),
    rssMiB: spread(run.samples.map((s) => s.rss), 1),
  }));
  const baseline = summaries.find((s) => s.run.variant.name === 'none');
  if (baseline === undefined) throw new Error('the none variant is the baseline of every ratio');
  type Summary = (typeof summaries)[number];
  const ratioTo = (pick: (x: Summary) => Spread, s: Summary) => ratio(pick(s).median, pick(baseline).median);
  return {
    workload: workload.name,
    description: `${workload.description}. Measured: ${notes.join('; ')}`,
    variants: summaries.map((s) => ({
      variant: s.run.variant.name satisfies VariantName,
      label: s.run.variant.label,
      throughputRps: s.throughputRps,
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      cpuSecondsPer1000: s.cpuSecondsPer1000,
      rssMiB: s.rssMiB,
      ratios: {
        throughput: ratioTo((x) => x.throughputRps, s),
        p99: ratioTo((x) => x.p99Ms, s),
        cpuPerRequest: ratioTo((x) => x.cpuSecondsPer1000, s),
      },
    })),
  };
}

runBench(main);
