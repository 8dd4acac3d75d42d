// Benchmark: start-up time and idle memory of one service with the telemetry SDK loaded, the way users start it
// (`node --require @lookout/telemetry/register`). The gateway is measured alone: its dependencies are non-critical,
// so it answers /healthz without Redis or upstreams, and what is timed is module loading, SDK start and listen.
//   npm run bench:startup                         (at the repository root)
//   BENCH_ROUNDS=10  BENCH_BASELINE=/path/to/another/checkout  (measures that checkout's gateway too, interleaved)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { percentile } from '@lookout/loadgen';
import { freePort, runBench, sleep, writeBenchResult } from '@lookout/testkit';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5_000);
const REPO = path.resolve(__dirname, '../../../..');

interface Variant {
  name: string;
  register: string;
  entry: string;
}

const variant = (name: string, root: string): Variant => ({
  name,
  register: path.join(root, 'instrumented-services/telemetry/dist/src/register.js'),
  entry: path.join(root, 'instrumented-services/gateway/dist/src/main.js'),
});

/** Milliseconds from spawn to the first 200 of /healthz, and resident memory (MiB) after IDLE_MS of idling. */
async function once(v: Variant): Promise<{ startupMs: number; idleRssMiB: number }> {
  const port = await freePort();
  const deadPort = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['--require', v.register, v.entry], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REDIS_URL: `redis://127.0.0.1:${deadPort}`,
      CATALOG_URL: `http://127.0.0.1:${deadPort}`,
      ORDERS_URL: `http://127.0.0.1:${deadPort}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadPort}`,
    },
    stdio: 'ignore',
  });
  try {
    let startupMs = Number.NaN;
    while (performance.now() - started < 30_000) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (ok) {
        startupMs = performance.now() - started;
        break;
      }
      await sleep(5);
    }
    if (Number.isNaN(startupMs)) throw new Error(`${v.name}: no /healthz within 30 s`);
    await sleep(IDLE_MS);
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid ?? 0}/status`, 'utf8'))?.[1]);
    return { startupMs, idleRssMiB: rssKiB / 1024 };
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return { min: round(sorted[0] ?? Number.NaN), median: round(percentile(sorted, 0.5)), max: round(sorted.at(-1) ?? Number.NaN) };
};

async function main(): Promise<void> {
  const variants = [variant('this checkout', REPO)];
  if (process.env.BENCH_BASELINE) variants.unshift(variant(`baseline (${process.env.BENCH_BASELINE})`, process.env.BENCH_BASELINE));
  const samples = new Map<string, { startupMs: number; idleRssMiB: number }[]>(variants.map((v) => [v.name, []]));
  // Interleaved, so that the machine's drift hits every variant alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      const r = await once(v);
      samples.get(v.name)?.push(r);
      process.stdout.write(`round ${round + 1} ${v.name}: ${r.startupMs.toFixed(0)} ms, ${r.idleRssMiB.toFixed(1)} MiB\n`);
    }
  }
  const results = variants.map((v) => {
    const list = samples.get(v.name) ?? [];
    return { variant: v.name, startupMs: summary(list.map((r) => r.startupMs)), idleRssMiB: summary(list.map((r) => r.idleRssMiB)) };
  });
  for (const r of results) {
    process.stdout.write(`${r.variant}: start-up median ${r.startupMs.median} ms, idle RSS median ${r.idleRssMiB.median} MiB\n`);
  }
  writeBenchResult('service-startup.json', 'gateway start-up to /healthz and idle RSS, telemetry SDK loaded', {
    rounds: ROUNDS,
    idleMs: IDLE_MS,
    results,
  });
}

runBench(main);
