// Benchmark: how long after a request its trace is queryable in Tempo, its log lines in Loki and its latency
// observation in Prometheus (p50/p95 over BENCH_REQUESTS requests), and the resident memory of each component of
// the native stack at idle. Starts its own stack on free ports.   npm run bench:pipeline
import { readdirSync, readFileSync } from 'node:fs';
import { status } from '@lookout/native-stack';
import { percentile } from '@lookout/loadgen';
import { metrics } from '@lookout/telemetry/contract';
import { runBench, sleep, writeBenchResult } from '@lookout/testkit';
import { lokiLines, promQuery, tempoTrace, tracedOrder } from '../test/backends.js';
import { startStack, stopStack } from '../test/stack.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 50);

async function until(probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await probe().catch(() => false)) return performance.now() - started;
    await sleep(100);
  }
  return Number.NaN;
}

const quantile = (values: number[], q: number) =>
  Math.round(percentile(values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b), q));

/** Resident memory of a process and all its descendants, in MiB. */
function treeRssMiB(root: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  let kib = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kib += Number(m?.[1] ?? 0);
    } catch {
      // gone
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return Math.round(kib / 1024);
}

async function main(): Promise<void> {
  // No background load: each observation must be this benchmark's own.
  const stack = await startStack({ loadgenRate: 0 });
  const results: { tempoMs: number; lokiMs: number; prometheusMs: number }[] = [];
  let memory: Record<string, number>;
  try {
    await sleep(20_000);
    const countNow = async () =>
      (await promQuery(stack, `sum(${metrics.httpServerRequestDuration.name}_count{job="gateway", http_route="/api/orders"})`))[0]?.value ?? 0;
    const runs: Promise<void>[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const { traceId } = await tracedOrder(stack, 1 + i);
      const seen = i + 1;
      runs.push(
        Promise.all([
          until(async () => (await tempoTrace(stack, traceId))?.some((s) => s.service === 'gateway') === true),
          until(async () => (await lokiLines(stack, `{service_name="orders"} | trace_id = "${traceId}"`, 10)).length > 0),
          until(async () => (await countNow()) >= seen),
        ]).then(([tempoMs, lokiMs, prometheusMs]) => {
          results.push({ tempoMs, lokiMs, prometheusMs });
        }),
      );
      await sleep(300);
    }
    await Promise.all(runs);
    await sleep(30_000);
    const names = ['postgres', 'redis', 'rabbitmq', 'prometheus', 'alertmanager', 'loki', 'tempo', 'otel-collector', 'catalog', 'orders', 'fulfillment', 'gateway', 'loadgen'];
    const programs = await status(stack);
    memory = Object.fromEntries(
      names
        .map((name) => [name, Number(new RegExp(`^${name}\\s+RUNNING\\s+pid (\\d+)`, 'm').exec(programs)?.[1] ?? 0)] as const)
        .filter(([, pid]) => pid > 0)
        .map(([name, pid]) => [name, treeRssMiB(pid)]),
    );
  } finally {
    await stopStack(stack);
  }
  const summary = (key: 'tempoMs' | 'lokiMs' | 'prometheusMs') => ({
    p50: quantile(results.map((r) => r[key]), 0.5),
    p95: quantile(results.map((r) => r[key]), 0.95),
    missing: results.filter((r) => Number.isNaN(r[key])).length,
  });
  writeBenchResult('pipeline-latency.json', 'time from a request to its telemetry being queryable, native stack', {
    requests: REQUESTS,
    note: 'POST /api/orders through the gateway, 300 ms apart, no other load; Prometheus = the request counted in the scraped histogram (15 s scrape interval)',
    latencyMs: { tempo: summary('tempoMs'), loki: summary('lokiMs'), prometheus: summary('prometheusMs') },
    idleRssMiB: memory,
  });
}

runBench(main);
