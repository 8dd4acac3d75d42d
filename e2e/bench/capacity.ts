// Benchmark: the highest steady gateway request rate at which the OpenTelemetry Collector refuses, fails and drops
// nothing and every service's SDK exports without a loss, with what the collector spends per 1,000 spans/s and log
// records/s: the figures to size a collector by. Starts its own native stack on free ports, no background load, then
// steady loadgen traffic at increasing rates until a step is not clean.
//   npm run bench:capacity                                   (at the repository root)
//   BENCH_RATES=50,150 BENCH_STEP_SECONDS=20                 a short look
//   BENCH_SETTLE_SECONDS (after each step, before its failure counters are read), BENCH_IDLE_SECONDS (baseline)
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { status } from '@lookout/native-stack';
import { parseMix, runLoad } from '@lookout/loadgen';
import { runBench, sleep, writeBenchResult } from '@lookout/testkit';
import { promQuery } from '../test/backends.js';
import { startStack, stopStack } from '../test/stack.js';
import { failureDeltas, grew, queueFill, snapshot, type Snapshot } from './capacity/collector.js';
import { fitLine, round } from './capacity/fit.js';
import { rssMiB } from './overhead/proc.js';

function envNumbers(name: string, fallback: string): number[] {
  const raw = process.env[name] ?? fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`${name}: expected positive numbers separated by commas, got "${raw}"`);
  return values;
}

const RATES = envNumbers('BENCH_RATES', '50,100,200,300,400,600').sort((a, b) => a - b);
const [STEP_SECONDS] = envNumbers('BENCH_STEP_SECONDS', '30') as [number];
const [SETTLE_SECONDS] = envNumbers('BENCH_SETTLE_SECONDS', '5') as [number];
// A multiple of the collector's 15 s scrape interval, so the baseline holds whole scrape cycles.
const [IDLE_SECONDS] = envNumbers('BENCH_IDLE_SECONDS', '30') as [number];
// The load generator's own demo mix and the native stack's 10,000 seeded products: the traffic of `npm run stack:up`.
const MIX = 'browse=70,search=25,order=5';
const PRODUCTS = 10_000;
// The demo key of the load generator (gateway DEMO_KEYS): its own budget, 60,000 requests a minute, above every rate.
const LOADGEN_KEY = 'lookout-demo-loadgen-key';
// The gateway's per-address budget (6,000 a minute by default) would answer 429 above 100 requests/s from loopback.
// The supervisor passes this process's environment on to the services, so raising it here reaches the gateway.
const ADDRESS_BUDGET = '10000000';
/** A step whose queue is still this full after the settle time has a backlog the exporters do not keep up with. */
const QUEUE_BACKLOG_SHARE = 0.01;

function programPid(programs: string, name: string): number {
  const pid = Number(new RegExp(`^${name}\\s+RUNNING\\s+pid (\\d+)`, 'm').exec(programs)?.[1] ?? 0);
  if (pid <= 0) throw new Error(`${name} is not running:\n${programs}`);
  return pid;
}

interface Step {
  targetRps: number;
  achievedRps: number;
  errorRatio: number;
  skipped: number;
  statusCodes: Record<string, number>;
  spansPerSecond: number;
  logRecordsPerSecond: number;
  metricPointsPerSecond: number;
  collectorCpuPercent: number;
  collectorRssMiB: number;
  machineCpuBusyPercent: number;
  queue: { maxSize: number; sizeAfterSettle: number; capacity: number };
  otlpBytesPerSecond: { traces: number; logs: number } | null;
  failures: Record<string, number>;
  clean: boolean;
  /** The collector and the SDKs lost nothing and the queue drained: its costs count even if the shop failed. */
  collectorClean: boolean;
  /** Why a step is not clean, in words; empty when it is. */
  problems: string[];
}

/** Rates and costs over the window from one snapshot to another. */
function rates(from: Snapshot, to: Snapshot) {
  const seconds = (to.at - from.at) / 1000;
  const machine = to.machine.total - from.machine.total;
  return {
    seconds,
    spansPerSecond: grew(from, to, 'otelcol_receiver_accepted_spans') / seconds,
    logRecordsPerSecond: grew(from, to, 'otelcol_receiver_accepted_log_records') / seconds,
    metricPointsPerSecond: grew(from, to, 'otelcol_receiver_accepted_metric_points') / seconds,
    collectorCpuPercent: ((to.collectorCpuSeconds - from.collectorCpuSeconds) / seconds) * 100,
    machineCpuBusyPercent: machine > 0 ? ((to.machine.busy - from.machine.busy) / machine) * 100 * cpus().length : 0,
    otlpBytesPerSecond:
      from.otlpBytes === undefined || to.otlpBytes === undefined
        ? null
        : { traces: (to.otlpBytes.traces - from.otlpBytes.traces) / seconds, logs: (to.otlpBytes.logs - from.otlpBytes.logs) / seconds },
  };
}

async function main(): Promise<void> {
  process.env.RATE_LIMIT_IP_REQUESTS = ADDRESS_BUDGET;
  // No background load: every request is this benchmark's own.
  const stack = await startStack({ loadgenRate: 0 });
  const steps: Step[] = [];
  let idle: ReturnType<typeof rates> & { collectorRssMiB: number };
  let series: Record<string, number> | undefined;
  try {
    const programs = await status(stack);
    const collectorPid = programPid(programs, 'otel-collector');
    const gatewayPid = programPid(programs, 'gateway');
    if (!readFileSync(`/proc/${gatewayPid}/environ`, 'utf8').split('\0').includes(`RATE_LIMIT_IP_REQUESTS=${ADDRESS_BUDGET}`)) {
      throw new Error('the gateway did not get RATE_LIMIT_IP_REQUESTS: its per-address budget would cap the load at 100 requests/s');
    }
    const baseUrl = `http://127.0.0.1:${stack.servicePorts.gateway ?? 0}`;
    const load = (rate: number, seconds: number, seed: number) =>
      runLoad({
        baseUrl, profile: 'steady', rate, durationSeconds: seconds, mix: parseMix(MIX), apiKey: LOADGEN_KEY,
        products: PRODUCTS, zipfExponent: 1, maxInFlight: 512, timeoutMs: 5_000, seed, periodSeconds: 60,
      });

    // Start-up settles (first scrapes, migrations' logs), then what the collector costs with no traffic at all.
    await sleep(15_000);
    const idleFrom = await snapshot(stack, collectorPid);
    await sleep(IDLE_SECONDS * 1000);
    const idleTo = await snapshot(stack, collectorPid);
    idle = { ...rates(idleFrom, idleTo), collectorRssMiB: idleTo.collectorRssMiB };
    process.stdout.write(`idle: collector ${idle.collectorCpuPercent.toFixed(1)}% CPU, ${idle.collectorRssMiB.toFixed(0)} MiB, ${idle.metricPointsPerSecond.toFixed(0)} metric points/s\n`);
    // Caches, connection pools and the JIT warm, so the first step is not a cold start.
    await load(RATES[0] ?? 50, 10, 1);
    await sleep(SETTLE_SECONDS * 1000);

    for (const rate of RATES) {
      const from = await snapshot(stack, collectorPid);
      let maxQueue = { size: 0, capacity: 0 };
      let maxRss = from.collectorRssMiB;
      const sampling = new AbortController();
      const sampler = (async () => {
        while (!sampling.signal.aborted) {
          await sleep(2_000);
          const q = await queueFill(stack).catch(() => maxQueue);
          if (q.size >= maxQueue.size) maxQueue = q;
          maxRss = Math.max(maxRss, rssMiB(collectorPid));
        }
      })();
      const stats = await load(rate, STEP_SECONDS, rate);
      const end = await snapshot(stack, collectorPid);
      await sleep(SETTLE_SECONDS * 1000);
      sampling.abort();
      await sampler;
      const settled = await snapshot(stack, collectorPid);
      const after = await queueFill(stack);
      const window = rates(from, end);
      const failures = failureDeltas(from, settled);
      const achievedRps = stats.completed / STEP_SECONDS;
      const errorRatio = stats.errors / Math.max(1, stats.completed);
      const capacity = after.capacity || maxQueue.capacity;
      const pipelineProblems = [
        ...Object.entries(failures).filter(([, v]) => v > 0).map(([name, v]) => `${name} +${v}`),
        ...(after.size > QUEUE_BACKLOG_SHARE * capacity ? [`exporter queue still at ${after.size} of ${capacity} ${SETTLE_SECONDS} s after the step`] : []),
      ];
      const problems = [
        ...pipelineProblems,
        ...(errorRatio >= 0.01 ? [`gateway error ratio ${(errorRatio * 100).toFixed(2)}%`] : []),
        ...(achievedRps < 0.95 * rate ? [`load generator reached ${achievedRps.toFixed(0)} of ${rate} requests/s (${stats.skipped} skipped)`] : []),
      ];
      const step: Step = {
        targetRps: rate,
        achievedRps: round(achievedRps, 1),
        errorRatio: round(errorRatio, 4),
        skipped: stats.skipped,
        statusCodes: Object.fromEntries(stats.statuses),
        spansPerSecond: round(window.spansPerSecond, 1),
        logRecordsPerSecond: round(window.logRecordsPerSecond, 1),
        metricPointsPerSecond: round(window.metricPointsPerSecond, 1),
        collectorCpuPercent: round(window.collectorCpuPercent, 1),
        collectorRssMiB: round(Math.max(maxRss, end.collectorRssMiB), 1),
        machineCpuBusyPercent: round(window.machineCpuBusyPercent, 0),
        queue: { maxSize: maxQueue.size, sizeAfterSettle: after.size, capacity },
        otlpBytesPerSecond: window.otlpBytesPerSecond && {
          traces: Math.round(window.otlpBytesPerSecond.traces),
          logs: Math.round(window.otlpBytesPerSecond.logs),
        },
        failures,
        clean: problems.length === 0,
        collectorClean: pipelineProblems.length === 0,
        problems,
      };
      steps.push(step);
      process.stdout.write(
        `${rate} rps target: ${step.achievedRps} done, errors ${(errorRatio * 100).toFixed(2)}%, ${step.spansPerSecond} spans/s, ` +
          `${step.logRecordsPerSecond} log records/s, collector ${step.collectorCpuPercent}% CPU ${step.collectorRssMiB} MiB, ` +
          `machine ${step.machineCpuBusyPercent}% busy, queue max ${maxQueue.size}/${capacity}${step.clean ? ', clean' : `: ${problems.join('; ')}`}\n`,
      );
      if (!step.clean) break;
    }
    // What a service costs Prometheus: its series (one per label set and histogram bucket), which grow with its
    // instances and routes, not with the request rate. Counted once every route of the mix has been used.
    series = Object.fromEntries(
      (await promQuery(stack, 'count by (job) ({job=~"gateway|catalog|orders|fulfillment"})')).map((r) => [r.metric.job ?? '?', r.value]),
    );
    process.stdout.write(`Prometheus series per service instance: ${JSON.stringify(series)}\n`);
  } finally {
    await stopStack(stack);
  }
  writeBenchResult('capacity.json', 'collector capacity: the highest clean steady gateway rate, native stack', { ...summarise(steps, idle), seriesPerServiceInstance: series });
}

function limitedBy(steps: readonly Step[]): string {
  const failed = steps.find((s) => !s.clean);
  if (failed === undefined) return `not reached: every rate up to ${steps.at(-1)?.targetRps ?? 0} requests/s was clean; the capacity is above it`;
  const collector = failed.problems.filter((p) => p.startsWith('otelcol_') || p.startsWith('exporter queue'));
  const sdk = failed.problems.filter((p) => p.includes('otel_sdk_'));
  if (collector.length > 0) return `the collector at ${failed.targetRps} requests/s: ${collector.join('; ')}`;
  if (sdk.length > 0) return `service SDK export at ${failed.targetRps} requests/s: ${sdk.join('; ')}`;
  return (
    `the machine, not the collector: at ${failed.targetRps} requests/s ${failed.problems.join('; ')} while the collector refused, failed ` +
    `and dropped nothing (${cpus().length} cores shared by the load generator, the shop and every backend, ${failed.machineCpuBusyPercent}% busy)`
  );
}

function summarise(steps: readonly Step[], idle: ReturnType<typeof rates> & { collectorRssMiB: number }): Record<string, unknown> {
  const clean = steps.filter((s) => s.clean);
  const best = clean.at(-1);
  const items = (s: { spansPerSecond: number; logRecordsPerSecond: number }) => (s.spansPerSecond + s.logRecordsPerSecond) / 1000;
  // Marginal cost: a straight line through the idle baseline and every step in which the collector and the SDKs lost
  // nothing (a step the shop failed still shows what the collector spent on what it accepted), against spans + log
  // records per second. The two signals rise together in one mix, so no fit can tell their costs apart; the slope is
  // split between them by the share of OTLP bytes each brought where the collector reports it, else by item counts.
  const fitted = steps.filter((s) => s.collectorClean);
  const cpuFit = fitLine([{ x: items(idle), y: idle.collectorCpuPercent }, ...fitted.map((s) => ({ x: items(s), y: s.collectorCpuPercent }))]);
  const rssFit = fitLine([{ x: items(idle), y: idle.collectorRssMiB }, ...fitted.map((s) => ({ x: items(s), y: s.collectorRssMiB }))]);
  const spans = fitted.reduce((a, s) => a + s.spansPerSecond, 0);
  const logs = fitted.reduce((a, s) => a + s.logRecordsPerSecond, 0);
  const bytes = fitted.every((s) => s.otlpBytesPerSecond !== null)
    ? fitted.reduce((a, s) => ({ traces: a.traces + (s.otlpBytesPerSecond?.traces ?? 0), logs: a.logs + (s.otlpBytesPerSecond?.logs ?? 0) }), { traces: 0, logs: 0 })
    : undefined;
  const byBytes = bytes !== undefined && bytes.traces + bytes.logs > 0;
  // Share of the marginal CPU each signal carries; CPU per 1,000 items/s of a signal = its share of the per-item cost.
  const spanShare = byBytes ? bytes.traces / (bytes.traces + bytes.logs) : spans / Math.max(1, spans + logs);
  const perItem = cpuFit?.slope;
  const perK = (share: number, count: number) => (perItem === undefined || count === 0 ? null : round((perItem * share * (spans + logs)) / count, 3));
  return {
    generatedAt: new Date().toISOString(),
    config: { rates: RATES, stepSeconds: STEP_SECONDS, settleSeconds: SETTLE_SECONDS, idleSeconds: IDLE_SECONDS, mix: MIX, products: PRODUCTS },
    idle: {
      collectorCpuPercent: round(idle.collectorCpuPercent, 1),
      collectorRssMiB: round(idle.collectorRssMiB, 1),
      spansPerSecond: round(idle.spansPerSecond, 1),
      logRecordsPerSecond: round(idle.logRecordsPerSecond, 1),
      metricPointsPerSecond: round(idle.metricPointsPerSecond, 1),
    },
    steps,
    capacity:
      best === undefined
        ? { rps: null, spansPerSecond: null, logRecordsPerSecond: null, limitedBy: limitedBy(steps) }
        : { rps: best.achievedRps, spansPerSecond: best.spansPerSecond, logRecordsPerSecond: best.logRecordsPerSecond, limitedBy: limitedBy(steps) },
    perThousand: {
      cpuPercentPerKItemsPerSecond: perItem === undefined ? null : round(perItem, 3),
      cpuPercentPerKSpansPerSecond: perK(spanShare, spans),
      cpuPercentPerKLogRecordsPerSecond: perK(1 - spanShare, logs),
      rssMiBPerKItemsPerSecond: rssFit === undefined ? null : round(rssFit.slope, 2),
      cpuSplit: byBytes ? 'by OTLP bytes received per signal' : 'by item count (a span and a log record assumed to cost the same)',
      spanShareOfCpu: round(spanShare, 3),
      fitPoints: fitted.length + 1,
    },
    note:
      'Collector CPU from /proc/<pid>/stat (utime+stime) over each load window, RSS the highest sampled in it; spans, log records and ' +
      'metric points are otelcol_receiver_accepted_* growth over the same window. Failures are the growth of every collector refused/' +
      'failed/send_failed/enqueue_failed/processor dropped counter and of every service\'s SDK export-error and dropped-span counters, ' +
      `read ${SETTLE_SECONDS} s after the step so its last exports are in. Items = spans + log records; perThousand is the slope of a ` +
      'least-squares line of collector CPU % (and RSS) against items/s through the idle baseline and every step with collectorClean ' +
      '(nothing lost in the collector or the SDKs, even where the shop answered errors); the split between ' +
      'spans and log records is an attribution (see cpuSplit), not a measurement: both rise together in one mix. Metric points come ' +
      'from the collector scraping every service each 15 s and do not grow with the request rate. Everything shares the same cores, ' +
      'so the collector competes with the load generator, the shop, every backend and whatever else runs on the machine. A status ' +
      'code "23" is the load generator\'s own 5 s timeout (DOMException TIMEOUT_ERR).',
  };
}

runBench(main);
