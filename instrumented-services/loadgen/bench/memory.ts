// Benchmark: the load generator's memory over a long run. One simulated hour at 500 requests/s (1.8 M latencies)
// goes through the same statistics and progress code as `loadgen run` (RunStats, a progress report every simulated
// second on a terminal), with no network, so that only what the statistics keep shows. Process RSS, V8 heap and
// array-buffer memory are sampled every simulated minute, after a full GC. For comparison the former design, every
// latency kept in an array, runs the same hour; its per-second sort is done once a minute to keep the bench short
// (the sort's copy is transient and does not change what is retained). Each variant runs in a process of its own.
//   npm run bench:loadgen-memory                 (at the repository root)
//   BENCH_SECONDS=3600 BENCH_RATE=500
import { spawn } from 'node:child_process';
import { ProgressReporter } from '../src/progress.js';
import type { Progress } from '../src/runner.js';
import { percentile, RunStats } from '../src/stats.js';
import { seededRandom } from '../src/zipf.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3600);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const VARIANTS = ['histogram', 'array-baseline'] as const;
type Variant = (typeof VARIANTS)[number];

const MiB = 1024 * 1024;
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

interface MemorySample {
  minute: number;
  samples: number;
  rssMiB: number;
  heapUsedMiB: number;
  arrayBuffersMiB: number;
}

interface VariantResult {
  variant: Variant;
  samples: number;
  wallSeconds: number;
  /** The histograms' own estimate of what they hold (histogram variant only). */
  histogramFootprintBytes?: number;
  latencyMs: Record<string, number>;
  memory: MemorySample[];
}

/** A latency draw: mostly a few milliseconds, a long tail to seconds (log-normal), 1% errors. */
function traffic(seed: number) {
  const random = seededRandom(seed);
  return () => {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return { status: random() < 0.01 ? '503' : '200', latencyMs: Math.exp(1.5 + 0.9 * normal) };
  };
}

function sampleMemory(minute: number, samples: number): MemorySample {
  // A full collection first: what is retained, not what is garbage not yet collected.
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { minute, samples, rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), arrayBuffersMiB: mib(m.arrayBuffers) };
}

function runVariant(variant: Variant): VariantResult {
  const next = traffic(20261123);
  const started = performance.now();
  const memory = [sampleMemory(0, 0)];
  let samples = 0;
  let latencyMs: Record<string, number>;
  if (variant === 'histogram') {
    const stats = new RunStats(0);
    // As on a terminal: one report a second, the interval histogram emptied each time.
    const reporter = new ProgressReporter({ isTTY: true, write: () => true });
    for (let second = 1; second <= SECONDS; second++) {
      for (let i = 0; i < RATE; i++) {
        const { status, latencyMs: ms } = next();
        stats.sent++;
        stats.record(status, ms);
        samples++;
      }
      const progress: Progress = { elapsedSeconds: second, targetRate: RATE, inFlight: 0, interval: stats.takeInterval(second * 1000), stats };
      reporter.report(progress);
      if (second % 60 === 0) memory.push(sampleMemory(second / 60, samples));
    }
    reporter.end();
    latencyMs = { ...stats.percentiles() };
    const result: VariantResult = { variant, samples, wallSeconds: 0, histogramFootprintBytes: stats.footprintBytes, latencyMs, memory };
    result.wallSeconds = Math.round((performance.now() - started) / 100) / 10;
    return result;
  }
  // The former RunStats: every latency pushed onto one array, sorted (a copy) to report percentiles.
  const latencies: number[] = [];
  let reported = 0;
  for (let second = 1; second <= SECONDS; second++) {
    for (let i = 0; i < RATE; i++) {
      latencies.push(next().latencyMs);
      samples++;
    }
    if (second % 60 === 0) {
      const sorted = [...latencies].sort((a, b) => a - b);
      reported = percentile(sorted, 0.99);
      memory.push(sampleMemory(second / 60, samples));
    }
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  latencyMs = { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: reported, max: sorted.at(-1) ?? 0 };
  return { variant, samples, wallSeconds: Math.round((performance.now() - started) / 100) / 10, latencyMs, memory };
}

/** Runs one variant in a fresh Node process with --expose-gc, so that neither sees the other's memory. */
async function inChild(variant: Variant): Promise<VariantResult> {
  const child = spawn(process.execPath, ['--expose-gc', __filename, variant], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`the ${variant} variant exited with ${String(code)}`);
  return JSON.parse(out) as VariantResult;
}

/** Growth from the first simulated minute to the last: the start-up allocations are not the statistics'. */
function growth(memory: readonly MemorySample[]) {
  const first = memory[1] ?? memory[0];
  const last = memory.at(-1);
  if (first === undefined || last === undefined) return {};
  return {
    rssMiB: Math.round((last.rssMiB - first.rssMiB) * 10) / 10,
    heapUsedMiB: Math.round((last.heapUsedMiB - first.heapUsedMiB) * 10) / 10,
    arrayBuffersMiB: Math.round((last.arrayBuffersMiB - first.arrayBuffersMiB) * 10) / 10,
  };
}

async function main(): Promise<void> {
  // Loaded here, not at the top: a variant's process holds the loadgen's statistics code only, not the test kit.
  const { writeBenchResult } = await import('@lookout/testkit');
  const results = [];
  for (const v of VARIANTS) {
    const r = await inChild(v);
    const last = r.memory.at(-1);
    process.stdout.write(
      `${v}: ${r.samples} samples in ${r.wallSeconds} s; after ${SECONDS / 60} simulated minutes RSS ${last?.rssMiB} MiB, ` +
        `heap ${last?.heapUsedMiB} MiB; growth since minute 1 ${JSON.stringify(growth(r.memory))}\n`,
    );
    results.push({ ...r, growthSinceMinute1: growth(r.memory) });
  }
  writeBenchResult('loadgen-memory.json', 'loadgen statistics memory over one simulated hour at 500 requests/s', {
    simulatedSeconds: SECONDS,
    ratePerSecond: RATE,
    progressIntervalSeconds: 1,
    note:
      'no network: latencies drawn log-normally (median 4.5 ms), 1% errors, fed to the statistics code; memory sampled ' +
      'every simulated minute after a forced GC, in a process per variant. array-baseline = the former design (every ' +
      'latency in an array), its per-second sort done once a minute.',
    results,
  });
}

const variant = process.argv[2];
if (variant === undefined) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
} else if ((VARIANTS as readonly string[]).includes(variant)) {
  process.stdout.write(`${JSON.stringify(runVariant(variant as Variant))}\n`);
} else {
  process.stderr.write(`unknown variant ${variant}\n`);
  process.exit(2);
}
