// Benchmark: the request rate the gateway sustains for a read-heavy mix, with the p99 latency at each step.
// Starts the whole shop on loopback (real Postgres, Redis, RabbitMQ), then runs loadgen at increasing rates.
//   npm run bench:gateway            (at the repository root)
//   BENCH_RATES=100,200,400 BENCH_STEP_SECONDS=10
import { parseMix, runLoad } from '@lookout/loadgen';
import { runBench, ShopStack, writeBenchResult, WRITE_KEY } from '@lookout/testkit';

const RATES = (process.env.BENCH_RATES ?? '200,400,600,800,1000,1200,1500,2000').split(',').map(Number);
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 10);
const MIX = 'browse=75,search=20,order=5';

async function main(): Promise<void> {
  const stack = await ShopStack.start({
    env: {
      catalog: { SEED_PRODUCTS: '10000', LOG_LEVEL: 'warn' },
      orders: { LOG_LEVEL: 'warn' },
      fulfillment: { LOG_LEVEL: 'warn' },
      gateway: { RATE_LIMIT_REQUESTS: '10000000', LOG_LEVEL: 'warn' },
    },
  });
  const steps = [];
  try {
    const gateway = stack.service('gateway');
    // Warm the cache and the connection pools so the first step is not a cold start.
    await runLoad({
      baseUrl: gateway.baseUrl, profile: 'steady', rate: 100, durationSeconds: 5, mix: parseMix(MIX), apiKey: WRITE_KEY,
      products: 10_000, zipfExponent: 1, maxInFlight: 256, timeoutMs: 5_000, seed: 1, periodSeconds: 60,
    });
    for (const rate of RATES) {
      const stats = await runLoad({
        baseUrl: gateway.baseUrl, profile: 'steady', rate, durationSeconds: STEP_SECONDS, mix: parseMix(MIX), apiKey: WRITE_KEY,
        products: 10_000, zipfExponent: 1, maxInFlight: 512, timeoutMs: 5_000, seed: rate, periodSeconds: 60,
      });
      const latency = stats.percentiles();
      const step = {
        targetRps: rate,
        achievedRps: Math.round(stats.completed / STEP_SECONDS),
        errorRatio: Number((stats.errors / Math.max(1, stats.completed)).toFixed(4)),
        skipped: stats.skipped,
        latencyMs: latency,
        statusCodes: Object.fromEntries(stats.statuses),
      };
      steps.push(step);
      process.stdout.write(
        `${rate} rps target: ${step.achievedRps} rps done, errors ${(step.errorRatio * 100).toFixed(2)}%, ` +
          `p50 ${latency.p50} ms, p99 ${latency.p99} ms, skipped ${stats.skipped}\n`,
      );
      if (step.errorRatio > 0.05 || stats.skipped > rate) break;
    }
  } finally {
    await stack.stop();
  }
  const sustained = steps.filter((s) => s.errorRatio < 0.01 && s.skipped === 0 && s.achievedRps >= 0.95 * s.targetRps).at(-1);
  writeBenchResult('gateway-throughput.json', 'gateway throughput, read-heavy mix, whole shop on one machine', {
    mix: MIX,
    stepSeconds: STEP_SECONDS,
    note: 'load generator, four services, Postgres, Redis and RabbitMQ share the same cores',
    sustained: sustained === undefined ? null : { rps: sustained.achievedRps, p99Ms: sustained.latencyMs.p99 },
    steps,
  });
}

runBench(main);
