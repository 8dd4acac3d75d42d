import { metrics } from '@lookout/telemetry/contract';
import { control, status, tcpReachable, type StackSettings } from '@lookout/native-stack';
import { anyError, fetchJson, scrape, sleep, sumOf, waitFor, WRITE_KEY, writeBenchResult } from '@lookout/testkit';
import pg from 'pg';
import { collectorMetric, lokiLines, tempoTrace, tracedOrder } from './backends.js';

/**
 * Outage drills with counts: under steady client load, each dependency is stopped for a few seconds (the collector
 * killed with SIGKILL and restarted by supervisord), one at a time. Every order the gateway answered 201 is a
 * marker; at the end, once for all drills, each marker must be in the orders database and confirmed, its trace in
 * Tempo, its "order accepted" line in Loki; the gateway's request counter must have a sample at every scrape.
 */

/** Seconds each component stays down (DRILL_OUTAGE_SECONDS). */
const OUTAGE_S = Number(process.env.DRILL_OUTAGE_SECONDS ?? 6);
/** The collector's scrape interval for the services (otel-collector/config.yaml). */
const SCRAPE_S = 15;
/** Seconds of load before each outage; before the collector's, also the spans its services were batching then. */
const LEAD_S = 3;
const COLLECTOR_LEAD_S = 6;
/** Client load during a drill: one order and one product read every TICK_MS. */
const TICK_MS = 250;
/** A drill gives up waiting for a successful request this long after the restart. */
const RECOVERY_LIMIT_S = 90;
/** Load keeps running this long after the first fully successful request (are the next ones fine too?). */
const AFTER_RECOVERY_MS = 2000;
/** Every request gives up after this long (a hung request is a client-visible error). */
const REQUEST_TIMEOUT_MS = 15_000;
/**
 * How far back from the first outage a sample may still wait in the collector (its metrics queue batches for up to
 * 1 s; one scrape interval and a margin cover a scrape in flight).
 */
const HELD_BACK_MS = 20_000;
/** Time for everything accepted to arrive after the last drill (a retried batch waits out its backoff). */
const VERIFY_LIMIT_MS = 180_000;

type Component = 'postgres' | 'redis' | 'rabbitmq' | 'otel-collector' | 'prometheus' | 'loki' | 'tempo';

export interface DrillRow {
  component: Component;
  how: 'stop, start' | 'kill -9, restarted by supervisord';
  /** When the component was stopped (or killed). */
  outageAt: string;
  /** Seconds from the stop (or kill) until the component answered its readiness probe again. */
  downSeconds: number;
  requests: number;
  /** Every answer by status code; `timeout` and `error` are requests that got none. */
  statuses: Record<string, number>;
  non2xx: Record<string, number>;
  /** Orders answered 201: markers that must all arrive everywhere. */
  accepted: number;
  /** Markers not confirmed, markers whose trace lacks spans, markers without their log line, samples never stored. */
  lost: { orders: number; spans: number; logs: number; samples: number };
  /** Gateway counter samples in the drill's window: expected from the scrape interval, found in Prometheus. */
  samples: { expected: number; found: number; notScraped: number; lostAt: string[] };
  /** Spans and log records the services' SDKs counted as failed exports during the drill (lost before the collector). */
  sdkExportFailures: { spans: number; logs: number };
  /** Seconds from the restart (or kill) until the first request answered 2xx for both an order and a read. */
  recoverySeconds: number | null;
}

interface Marker {
  component: Component;
  orderId: number;
  traceId: string;
  /** When the order was sent (epoch ms). */
  sentAt: number;
}

interface Window {
  component: Component;
  from: number;
  /** When the component was stopped (or killed). */
  downAt: number;
  to: number;
  /** From the kill to the restarted collector's first accepted scrape: a sample missing then was never taken. */
  collectorDown?: [number, number];
}

const BACKEND_READY: Partial<Record<Component, (s: StackSettings) => string>> = {
  prometheus: (s) => `http://127.0.0.1:${s.ports.prometheus}/-/ready`,
  loki: (s) => `http://127.0.0.1:${s.ports.loki}/ready`,
  tempo: (s) => `http://127.0.0.1:${s.ports.tempo}/ready`,
  'otel-collector': (s) => `http://127.0.0.1:${s.ports.otelcolHealth}/`,
};

async function ready(s: StackSettings, component: Component): Promise<boolean> {
  const url = BACKEND_READY[component]?.(s);
  if (url !== undefined) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }
  if (component === 'postgres') {
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${s.ports.postgres}/orders`, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return tcpReachable(component === 'redis' ? s.ports.redis : s.ports.rabbitmq);
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, sleep(ms).then(() => 'timeout' as const)]);

/** The pid supervisord reports for a running program. */
async function pidOf(s: StackSettings, program: string): Promise<number | undefined> {
  const m = new RegExp(`^${program}\\s+RUNNING\\s+pid (\\d+)`, 'm').exec(await status(s));
  return m === null ? undefined : Number(m[1]);
}

/** True once the collector's Prometheus receiver has accepted a sample (its own counter, reset by a restart). */
async function collectorHasScraped(s: StackSettings): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${s.ports.otelcolMetrics}/metrics`, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    return /^otelcol_receiver_accepted_metric_points\{[^}]*receiver="prometheus"[^}]*\} [1-9]/m.test(text);
  } catch {
    return false;
  }
}

/** Spans and log records every shop service's SDK failed to export so far. */
async function sdkExportFailures(s: StackSettings): Promise<{ spans: number; logs: number }> {
  let spans = 0;
  let logs = 0;
  for (const port of Object.values(s.managementPorts)) {
    const samples = await scrape(`http://127.0.0.1:${port}`);
    spans += sumOf(samples, metrics.otelSdkExporterSpanExported.name, { error_type: anyError });
    logs += sumOf(samples, metrics.otelSdkExporterLogExported.name, { error_type: anyError });
  }
  return { spans, logs };
}

/** One drill: steady load from just before the outage until shortly after the first fully successful request. */
async function drill(s: StackSettings, component: Component, markers: Marker[]): Promise<{ row: DrillRow; window: Window }> {
  const gateway = `http://127.0.0.1:${s.servicePorts.gateway ?? 0}`;
  const statuses: Record<string, number> = {};
  const count = (key: string) => (statuses[key] = (statuses[key] ?? 0) + 1);
  let accepted = 0;
  let restartedAt = Number.POSITIVE_INFINITY;
  let recoveredAt: number | undefined;
  const inFlight: Promise<void>[] = [];

  const order = async (): Promise<boolean> => {
    const sentAt = Date.now();
    let placed: Awaited<ReturnType<typeof tracedOrder>> | 'timeout';
    try {
      placed = await withTimeout(tracedOrder(s, 1 + Math.floor(Math.random() * 50)), REQUEST_TIMEOUT_MS);
    } catch (err) {
      // tracedOrder throws on an answer without a traceresponse header or a JSON body; the status is in its message.
      count(/status (\d+)/.exec(String(err))?.[1] ?? 'error');
      return false;
    }
    if (placed === 'timeout') {
      count('timeout');
      return false;
    }
    count(String(placed.status));
    if (placed.status !== 201) return false;
    accepted++;
    markers.push({ component, orderId: placed.orderId, traceId: placed.traceId, sentAt });
    return true;
  };
  const read = async (): Promise<boolean> => {
    const res = await withTimeout(
      fetch(`${gateway}/api/products/${1 + Math.floor(Math.random() * 50)}`, { headers: { 'x-api-key': WRITE_KEY } }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      }).catch(() => 'error' as const),
      REQUEST_TIMEOUT_MS,
    );
    count(String(res));
    return res === 200;
  };

  const load = (async () => {
    for (;;) {
      const sentAt = Date.now();
      inFlight.push(
        Promise.all([order(), read()]).then(([o, r]) => {
          if (o && r && sentAt >= restartedAt && recoveredAt === undefined) recoveredAt = Date.now();
        }),
      );
      if (recoveredAt !== undefined && Date.now() > recoveredAt + AFTER_RECOVERY_MS) break;
      if (Date.now() > restartedAt + RECOVERY_LIMIT_S * 1000) break;
      await sleep(Math.max(0, sentAt + TICK_MS - Date.now()));
    }
  })();

  const failuresBefore = await sdkExportFailures(s);
  const from = Date.now();
  await sleep((component === 'otel-collector' ? COLLECTOR_LEAD_S : LEAD_S) * 1000);
  let downAt = Date.now();
  let how: DrillRow['how'] = 'stop, start';
  if (component === 'otel-collector') {
    // A crash, not a shutdown: what the collector held must be on disk already (its file-backed queues).
    how = 'kill -9, restarted by supervisord';
    const pid = await pidOf(s, component);
    if (pid === undefined) throw new Error(`${component} is not running: ${await status(s)}`);
    downAt = Date.now();
    process.kill(pid, 'SIGKILL');
    restartedAt = Date.now();
  } else {
    await control(s, 'stop', component);
    await sleep(OUTAGE_S * 1000);
    restartedAt = Date.now();
    await control(s, 'start', component);
  }
  while (!(await ready(s, component))) {
    if (Date.now() > restartedAt + RECOVERY_LIMIT_S * 1000) throw new Error(`${component} not ready ${RECOVERY_LIMIT_S} s after its restart`);
    await sleep(100);
  }
  const readyAt = Date.now();
  let firstScrapeAt = readyAt;
  if (component === 'otel-collector') {
    // The new process scrapes nothing until its scrape manager has applied the discovered targets (up to 5 s after
    // its start): a scrape instant before its first accepted sample was never taken, so it cannot be lost.
    while (!(await collectorHasScraped(s))) {
      if (Date.now() > restartedAt + RECOVERY_LIMIT_S * 1000) throw new Error('the restarted collector scraped nothing');
      await sleep(200);
    }
    firstScrapeAt = Date.now();
  }
  await load;
  await Promise.all(inFlight);
  const to = Date.now();
  const failuresAfter = await sdkExportFailures(s);

  const non2xx = Object.fromEntries(Object.entries(statuses).filter(([k]) => !/^2\d\d$/.test(k)));
  return {
    row: {
      component,
      how,
      outageAt: new Date(downAt).toISOString(),
      downSeconds: round((readyAt - downAt) / 1000),
      requests: Object.values(statuses).reduce((a, b) => a + b, 0),
      statuses,
      non2xx,
      accepted,
      lost: { orders: 0, spans: 0, logs: 0, samples: 0 },
      samples: { expected: 0, found: 0, notScraped: 0, lostAt: [] },
      sdkExportFailures: { spans: failuresAfter.spans - failuresBefore.spans, logs: failuresAfter.logs - failuresBefore.logs },
      recoverySeconds: recoveredAt === undefined ? null : round((recoveredAt - restartedAt) / 1000),
    },
    window: { component, from, downAt, to, ...(component === 'otel-collector' ? { collectorDown: [downAt, firstScrapeAt] as [number, number] } : {}) },
  };
}

const round = (x: number) => Math.round(x * 10) / 10;

interface Matrix {
  data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
}

/** The gateway's request counter for product reads answered 200: a series every drill keeps alive. */
const GATEWAY_SERIES = `${metrics.httpServerRequestDuration.name}_count{job="gateway", http_route="/api/products/:id", http_response_status_code="200"}`;

/** The raw samples (epoch seconds) of each series of GATEWAY_SERIES from `from` to `to` (epoch ms). */
async function gatewaySamples(s: StackSettings, from: number, to: number): Promise<number[][]> {
  const range = Math.ceil((to - from) / 1000);
  const { status: code, body } = await fetchJson(
    `http://127.0.0.1:${s.ports.prometheus}/api/v1/query?${new URLSearchParams({ query: `${GATEWAY_SERIES}[${range}s]`, time: String(to / 1000) }).toString()}`,
    { signal: AbortSignal.timeout(10_000) },
  );
  if (code !== 200) throw new Error(`Prometheus answered ${code}: ${JSON.stringify(body)}`);
  return (body as unknown as Matrix).data.result.map((r) => r.values.map(([at]) => at));
}

interface SampleCount {
  expected: number;
  found: number;
  lost: number;
  notScraped: number;
  lostAt: string[];
}

/**
 * The gateway counter's samples over all drills, against the collector's scrape schedule: between two samples of a
 * series, every 15 s step without one is a missing sample. It was never taken if it fell while the collector was
 * dead; otherwise it was scraped and lost. Each missing sample is counted in the drill whose window holds it.
 * Undefined while Prometheus has nothing yet after the last window (the collector is still sending).
 */
async function sampleCounts(s: StackSettings, windows: Window[], since: number): Promise<Map<Component, SampleCount> | undefined> {
  const first = windows[0];
  const last = windows.at(-1);
  if (first === undefined || last === undefined) return new Map();
  const reachBack = Math.max(first.from - HELD_BACK_MS, since);
  const series = await gatewaySamples(s, reachBack - 2 * SCRAPE_S * 1000, Date.now());
  if (!series.some((times) => (times.at(-1) ?? 0) * 1000 >= last.to)) return undefined;
  const counts = new Map<Component, SampleCount>(windows.map((w) => [w.component, { expected: 0, found: 0, lost: 0, notScraped: 0, lostAt: [] as string[] }]));
  // The first window reaches back to what the collector may still have held for Prometheus when the first outage
  // began, but not past the drills' first fresh sample: a gap before it belongs to whatever ran before the drills
  // (the collector-outage test restarts the collector just before).
  const startOf = (w: Window, i: number) => (i === 0 ? reachBack : w.from);
  const windowAt = (ms: number) => windows.find((w, i) => ms >= startOf(w, i) && ms < (windows[i + 1]?.from ?? last.to));
  for (const times of series) {
    for (const [i, at] of times.entries()) {
      const w = windowAt(at * 1000);
      const c = w === undefined ? undefined : counts.get(w.component);
      if (c !== undefined) {
        c.expected++;
        c.found++;
      }
      const next = times[i + 1];
      if (next === undefined) continue;
      for (let k = 1; k < Math.round((next - at) / SCRAPE_S); k++) {
        const missing = (at + k * SCRAPE_S) * 1000;
        const mw = windowAt(missing);
        const mc = mw === undefined ? undefined : counts.get(mw.component);
        if (mw === undefined || mc === undefined) continue;
        mc.expected++;
        const down = mw.collectorDown;
        if (down !== undefined && missing >= down[0] - 1000 && missing <= down[1] + 1000) mc.notScraped++;
        else {
          mc.lost++;
          mc.lostAt.push(new Date(missing).toISOString());
        }
      }
    }
  }
  return counts;
}

interface Missing {
  orders: Set<number>;
  /** Trace id -> the spans found of it (service/kind), when incomplete. */
  traces: Map<string, string>;
  logs: Set<number>;
}

/** Every marker everywhere, or what is still missing once the time is up. */
async function verify(s: StackSettings, markers: Marker[], windows: Window[], rows: DrillRow[], since: number): Promise<Missing> {
  const missingOrders = new Set(markers.map((m) => m.orderId));
  const missingTraces = new Map(markers.map((m) => [m.traceId, 'not in Tempo']));
  const missingLogs = new Set(markers.map((m) => m.orderId));
  let samples: Map<Component, SampleCount> | undefined;
  const db = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${s.ports.postgres}/orders` });
  await db.connect();
  const deadline = Date.now() + VERIFY_LIMIT_MS;
  try {
    for (;;) {
      if (missingOrders.size > 0) {
        const confirmed = await db.query<{ id: string }>(`SELECT id FROM orders WHERE id = ANY($1::bigint[]) AND status = 'confirmed'`, [[...missingOrders]]);
        for (const { id } of confirmed.rows) missingOrders.delete(Number(id));
      }
      if (missingLogs.size > 0) {
        const ids = [...missingLogs].join('|');
        const lines = await lokiLines(s, `{service_name="orders"} |= "order accepted" | order_id =~ "${ids}"`, 20);
        for (const l of lines) if (l.line === 'order accepted') missingLogs.delete(Number(l.labels.order_id));
      }
      for (const traceId of [...missingTraces.keys()]) {
        const spans = await tempoTrace(s, traceId).catch(() => undefined);
        const has = (service: string, kind?: string) => spans?.some((sp) => sp.service === service && (kind === undefined || sp.kind === kind)) === true;
        if (has('gateway', 'SERVER') && has('orders') && has('fulfillment', 'CONSUMER')) missingTraces.delete(traceId);
        else if (spans !== undefined) missingTraces.set(traceId, `only ${[...new Set(spans.map((sp) => `${sp.service}/${sp.kind}`))].sort().join(' ')}`);
      }
      // Once Prometheus holds samples after the last window, a gap is final: a late sample would be out of order.
      samples ??= await sampleCounts(s, windows, since);
      const done = missingOrders.size + missingTraces.size + missingLogs.size === 0 && samples !== undefined;
      if (done || Date.now() > deadline) break;
      await sleep(3000);
    }
  } finally {
    await db.end();
  }
  for (const row of rows) {
    const mine = markers.filter((m) => m.component === row.component);
    row.lost.orders = mine.filter((m) => missingOrders.has(m.orderId)).length;
    row.lost.spans = mine.filter((m) => missingTraces.has(m.traceId)).length;
    row.lost.logs = mine.filter((m) => missingLogs.has(m.orderId)).length;
    const g = samples?.get(row.component);
    // No answer from Prometheus after the last window: every sample of it counts as lost.
    row.lost.samples = g?.lost ?? Number.NaN;
    row.samples = { expected: g?.expected ?? 0, found: g?.found ?? 0, notScraped: g?.notScraped ?? 0, lostAt: g?.lostAt ?? [] };
  }
  return { orders: missingOrders, traces: missingTraces, logs: missingLogs };
}

export interface DrillReport {
  rows: DrillRow[];
  /** Accepted orders not confirmed, or whose trace or log line did not arrive: what is missing of each. */
  missing: { component: Component; orderId: number; traceId: string; secondsFromOutage: number; what: string[] }[];
  seconds: number;
  collectorSendFailed: number;
}

/**
 * Runs every drill in turn, verifies once, writes bench-results/drills.json and returns the table. The
 * Prometheus and collector drills come first: metrics are the slowest path (a scrape every 15 s).
 */
export async function runOutageDrills(s: StackSettings, log: (line: string) => void = () => undefined): Promise<DrillReport> {
  const started = Date.now();
  const order: Component[] = ['prometheus', 'otel-collector', 'loki', 'tempo', 'redis', 'postgres', 'rabbitmq'];
  const markers: Marker[] = [];
  const rows: DrillRow[] = [];
  const windows: Window[] = [];
  // The counter must be flowing into Prometheus before the first drill: its first sample taken after the drills
  // began is the baseline from which samples are counted.
  const baseline = await waitFor('a fresh sample of the gateway request counter in Prometheus', async () => {
    const fresh = (await gatewaySamples(s, started - SCRAPE_S * 1000, Date.now())).flat().filter((at) => at * 1000 >= started);
    return fresh.length > 0 ? Math.min(...fresh) * 1000 : undefined;
  }, VERIFY_LIMIT_MS, 1000);
  for (const component of order) {
    const { row, window } = await drill(s, component, markers);
    log(`${component}: down ${row.downSeconds} s, ${row.requests} requests ${JSON.stringify(row.statuses)}, recovered after ${row.recoverySeconds ?? '-'} s`);
    rows.push(row);
    windows.push(window);
  }
  const gone = await verify(s, markers, windows, rows, baseline);
  const seconds = round((Date.now() - started) / 1000);
  const collectorSendFailed = await collectorMetric(s, /^otelcol_exporter_send_failed_/);
  const missing = markers.flatMap((m) => {
    const what = [
      ...(gone.orders.has(m.orderId) ? ['confirmed order'] : []),
      ...(gone.traces.has(m.traceId) ? [`complete trace (${gone.traces.get(m.traceId) ?? ''})`] : []),
      ...(gone.logs.has(m.orderId) ? ['log line'] : []),
    ];
    const downAt = windows.find((w) => w.component === m.component)?.downAt ?? m.sentAt;
    return what.length === 0 ? [] : [{ component: m.component, orderId: m.orderId, traceId: m.traceId, secondsFromOutage: round((m.sentAt - downAt) / 1000), what }];
  });
  writeBenchResult('drills.json', 'outage drills with counts, native stack under steady load', {
    note:
      `each component down for ~${OUTAGE_S} s (the collector killed with SIGKILL and restarted by supervisord), one at a time; ` +
      `client load: one POST /api/orders and one GET /api/products/:id every ${TICK_MS} ms from 1 s before the outage until ` +
      `${AFTER_RECOVERY_MS / 1000} s after the first fully successful request; every order answered 201 must be confirmed in ` +
      'Postgres, its trace in Tempo (gateway, orders, fulfillment), its "order accepted" line in Loki; the gateway request ' +
      `counter must have a sample at every ${SCRAPE_S} s scrape over each window (a scrape due while the collector was dead is notScraped, not lost)`,
    seconds,
    rows,
    missing,
  });
  return { rows, missing, seconds, collectorSendFailed };
}
