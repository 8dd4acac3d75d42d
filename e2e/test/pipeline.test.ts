import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { allMetrics, metrics, type Emitter } from '@lookout/telemetry/contract';
import { services as model } from '@lookout/stack';
import { anyError, parseMetrics, scrape, sleep, sumOf, waitFor, WRITE_KEY } from '@lookout/testkit';
import { control, status, type StackSettings } from '@lookout/native-stack';
import { collectorMetric, collectorSeries, lokiLines, promExemplars, promQuery, tempoTrace, tracedOrder, type TraceSpan } from './backends.js';
import { runOutageDrills } from './outage-drills.js';
import { startStack, stopStack } from './stack.js';

const OUTAGE_MS = Number(process.env.E2E_OUTAGE_SECONDS ?? 120) * 1000;

describe('the native stack, end to end', { timeout: 60 * 60 * 1000 }, () => {
  let stack: StackSettings | undefined;
  const s = () => stack as StackSettings;
  const startedAt = Date.now();

  before(async () => {
    stack = await startStack();
  }, { timeout: 60 * 60 * 1000 });
  after(async () => {
    await stopStack(stack);
  });

  async function order(): Promise<{ orderId: number; traceId: string; callerTraceId: string }> {
    const placed = await tracedOrder(s(), 1 + Math.floor(Math.random() * 100));
    assert.equal(placed.status, 201);
    return placed;
  }

  /**
   * The trace once every hop is in: the gateway's server span, catalog, the fulfillment consumer (RabbitMQ) and the
   * orders pg and publish spans. Each service exports on its own schedule (within a second), so the gateway's span,
   * which ends last, may arrive after the others.
   * Fulfillment's batched UPDATE is not required: it joins the trace of the message that opened its batch, which
   * under background load may be another order's.
   */
  const completeTrace = async (traceId: string): Promise<TraceSpan[] | undefined> => {
    const spans = await tempoTrace(s(), traceId);
    const has = (service: string, test: (span: TraceSpan) => boolean) => spans?.some((sp) => sp.service === service && test(sp)) === true;
    return has('gateway', (sp) => sp.kind === 'SERVER') &&
      has('catalog', (sp) => sp.kind === 'SERVER') &&
      has('fulfillment', (sp) => sp.kind === 'CONSUMER') &&
      has('orders', (sp) => sp.kind === 'PRODUCER') &&
      has('orders', (sp) => sp.attributes['db.system.name'] === 'postgresql')
      ? spans
      : undefined;
  };

  it('puts one request\'s trace in Tempo, its logs in Loki and its metrics in Prometheus, correlated', async () => {
    const { orderId, traceId, callerTraceId } = await order();

    const spans = await waitFor(`trace ${traceId} complete in Tempo`, () => completeTrace(traceId), 90_000, 1000);
    // The public edge started this trace for an outside caller and links to the caller's (INBOUND_TRACE_CONTEXT=link).
    assert.notEqual(traceId, callerTraceId);
    const edge = spans.find((sp) => sp.service === 'gateway' && sp.kind === 'SERVER');
    assert.deepEqual(edge?.linkedTraceIds, [callerTraceId], 'the gateway\'s span does not link to the caller\'s trace');
    const services = new Set(spans.map((sp) => sp.service));
    for (const name of ['gateway', 'catalog', 'orders', 'fulfillment']) assert.ok(services.has(name), `${name} missing: ${[...services].join(', ')}`);
    assert.ok(spans.some((sp) => sp.service === 'orders' && sp.attributes['db.system.name'] === 'postgresql'), 'no pg span in orders');
    assert.ok(spans.some((sp) => sp.service === 'orders' && sp.kind === 'PRODUCER'), 'no RabbitMQ publish span');

    const lines = await waitFor(`logs of trace ${traceId} in Loki`, async () => {
      const found = await lokiLines(s(), `{service_name=~"orders|fulfillment"} | trace_id = "${traceId}"`);
      const byService = new Set(found.map((l) => l.labels.service_name));
      return byService.has('orders') && byService.has('fulfillment') ? found : undefined;
    }, 90_000, 1000);
    // Every request writes an access-log line in its trace, so Grafana's trace -> logs link finds the gateway too.
    const access = await waitFor(`access log of trace ${traceId} in Loki`, async () => {
      const found = await lokiLines(s(), `{service_name="gateway"} | trace_id = "${traceId}"`);
      return found.some((l) => l.line === 'request') ? found : undefined;
    }, 90_000, 1000);
    assert.ok(access.some((l) => l.line === 'request' && l.labels.http_route === '/api/orders'), JSON.stringify(access));
    // The line is the record's body; its attributes (order_id, trace_id, …) are structured metadata.
    assert.ok(lines.some((l) => l.line === 'order accepted' && l.labels.order_id === String(orderId)), JSON.stringify(lines));
    assert.ok(lines.every((l) => l.labels.trace_id === traceId), 'trace_id is not structured metadata of the lines');

    await waitFor('the gateway\'s latency histogram in Prometheus', async () => {
      const r = await promQuery(s(), `sum(${metrics.httpServerRequestDuration.name}_count{job="gateway", http_route="/api/orders"})`);
      return (r[0]?.value ?? 0) > 0 ? true : undefined;
    }, 90_000, 2000);
    const exemplars = await waitFor('exemplars on the gateway histogram', async () => {
      const found = await promExemplars(s(), `${metrics.httpServerRequestDuration.name}_bucket{job="gateway"}`, startedAt);
      return found.length > 0 ? found : undefined;
    }, 90_000, 2000);
    const exemplarTrace = exemplars.find((e) => e.labels.trace_id === traceId)?.labels.trace_id ?? exemplars[0]?.labels.trace_id;
    assert.ok(exemplarTrace !== undefined && /^[0-9a-f]{32}$/.test(exemplarTrace), JSON.stringify(exemplars[0]));
    assert.ok(await waitFor(`exemplar trace ${exemplarTrace} in Tempo`, () => tempoTrace(s(), exemplarTrace), 60_000, 1000));

    await waitFor('the gateway -> catalog edge in Tempo\'s service graph', async () => {
      const r = await promQuery(s(), 'sum(traces_service_graph_request_total{client="gateway", server="catalog"})');
      return (r[0]?.value ?? 0) > 0 ? true : undefined;
    }, 120_000, 2000);

    assert.equal(await collectorMetric(s(), /^otelcol_receiver_refused_/), 0, 'the collector refused data');
    assert.equal(await collectorMetric(s(), /^otelcol_exporter_send_failed_/), 0, 'the collector failed to send data');
  });

  // Both at once: the collector queues logs and traces side by side, and the test pays one outage, not two.
  it(`loses nothing while Loki and Tempo are both down for ${OUTAGE_MS / 1000} s under steady load`, async () => {
    await control(s(), 'stop', 'loki');
    await control(s(), 'stop', 'tempo');
    const markers: { orderId: number; traceId: string }[] = [];
    const end = Date.now() + OUTAGE_MS;
    try {
      while (Date.now() < end) {
        markers.push(await order());
        await sleep(Math.max(0, Math.min(5_000, end - Date.now())));
      }
    } finally {
      await control(s(), 'start', 'loki');
      await control(s(), 'start', 'tempo');
    }
    const ids = markers.map((m) => m.orderId);
    const seen = await waitFor(`every "order accepted" line of the ${markers.length} outage orders in Loki`, async () => {
      const found = await lokiLines(s(), '{service_name="orders"} |= "order accepted"', 30);
      const ours = found.map((l) => Number(l.labels.order_id)).filter((id) => ids.includes(id));
      return ours.length >= ids.length ? ours : undefined;
    }, 180_000, 2000);
    assert.equal(seen.length, ids.length, 'a line arrived twice');
    assert.deepEqual([...new Set(seen)].sort(), [...ids].sort());
    for (const { traceId } of markers) {
      await waitFor(`outage trace ${traceId} in Tempo`, () => completeTrace(traceId), 180_000, 2000);
    }
    assert.deepEqual(await collectorSeries(s(), /^otelcol_exporter_send_failed_/), [], 'the collector gave up on data');
  });

  it('delivers Watchdog from Prometheus through Alertmanager to the alert receiver, and its log line to Loki', async () => {
    const receiver = `http://127.0.0.1:${s().servicePorts['alert-receiver'] ?? 0}`;
    const received = await waitFor('Watchdog at the alert receiver', async () => {
      const res = await fetch(`${receiver}/notifications?alertname=Watchdog&status=firing`);
      const body = (await res.json()) as { notifications: { receiver: string; severity: string }[] };
      return body.notifications.length > 0 ? body.notifications : undefined;
    }, 120_000, 2000);
    const first = received[0];
    assert.ok(first);
    assert.equal(first.receiver, 'watchdog');
    assert.equal(first.severity, 'info');
    const lines = await waitFor('the notification in Loki', async () => {
      const found = await lokiLines(s(), '{service_name="alert-receiver"} |= "alert notification"');
      return found.some((l) => l.labels.alertname === 'Watchdog') ? found : undefined;
    }, 90_000, 1000);
    assert.ok(lines.some((l) => l.labels.receiver === 'watchdog'), JSON.stringify(lines[0]));
  });

  it('emits from every service exactly the metrics the telemetry contract declares for it, with its identity', async () => {
    // Background load and the orders above have exercised every path a healthy shop takes.
    const undeclared: string[] = [];
    const missing: string[] = [];
    for (const service of model) {
      const text = await (await fetch(`http://127.0.0.1:${s().managementPorts[service.name] ?? 0}/metrics`)).text();
      const samples = parseMetrics(text);
      // A family counts as emitted once it has a sample (prom-client announces unused ones with their TYPE alone).
      const sampleNames = new Set(samples.map((x) => x.name));
      const SAMPLE_SUFFIXES: Record<string, string[]> = { counter: ['_total'], histogram: ['_count'], info: ['_info'] };
      const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)]
        .filter(([, family, type]) => (SAMPLE_SUFFIXES[type ?? ''] ?? ['']).some((suffix) => sampleNames.has(`${family ?? ''}${suffix}`)))
        .map((m) => m[1] as string);
      const declared = (family: string) => allMetrics.find((m) => m.name === family || (m.type === 'counter' && `${family}_total` === m.name));
      for (const family of families) if (declared(family) === undefined) undeclared.push(`${service.name}: ${family}`);
      const expected = allMetrics.filter((x) => x.intermittent !== true && (x.emittedBy.includes('all') || x.emittedBy.includes(service.name as Emitter)));
      for (const m of expected) {
        if (!families.some((family) => declared(family) === m)) missing.push(`${service.name}: ${m.name}`);
      }
      for (const sample of samples) {
        assert.equal(sample.labels.service_name, service.name, `${service.name}: ${sample.name} carries another service_name`);
        assert.equal(sample.labels.deployment_environment_name, 'native', sample.name);
      }
    }
    assert.deepEqual(undeclared, [], 'emitted but not declared in @lookout/telemetry/contract');
    assert.deepEqual(missing, [], 'declared in @lookout/telemetry/contract but never emitted');
    // In Prometheus, through the collector, each job's series carry the same service identity as its spans.
    const series = await promQuery(s(), `count by (job, service_name, service_namespace) (${metrics.httpServerRequestDuration.name}_count)`);
    const jobs = new Set(series.map((r) => r.metric.job));
    for (const emitter of metrics.httpServerRequestDuration.emittedBy) assert.ok(jobs.has(emitter), `${emitter}: ${JSON.stringify(series)}`);
    for (const r of series) {
      assert.equal(r.metric.service_name, r.metric.job, JSON.stringify(r.metric));
      assert.equal(r.metric.service_namespace, 'lookout');
    }
  });

  it('keeps serving without error while the collector is down, and counts the telemetry it could not send', async () => {
    const gateway = `http://127.0.0.1:${s().servicePorts.gateway ?? 0}`;
    // Its /metrics is on the management port.
    const failed = async () => sumOf(await scrape(`http://127.0.0.1:${s().managementPorts.gateway ?? 0}`), metrics.otelSdkExporterSpanExported.name, { error_type: anyError });
    const rssMiB = async () => {
      const pid = Number(/^gateway\s+RUNNING\s+pid (\d+)/m.exec(await status(s()))?.[1]);
      return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
    };
    const failedBefore = await failed();
    const rssBefore = await rssMiB();
    await control(s(), 'stop', 'otel-collector');
    try {
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${gateway}/api/products/${1 + (i % 50)}`, { headers: { 'x-api-key': WRITE_KEY } });
        await res.arrayBuffer();
        assert.equal(res.status, 200);
      }
      await waitFor('lost spans to be counted', async () => ((await failed()) > failedBefore ? true : undefined), 60_000, 1000);
      const growth = (await rssMiB()) - rssBefore;
      assert.ok(growth < 100, `the gateway grew by ${growth.toFixed(0)} MiB while the collector was down`);
    } finally {
      await control(s(), 'start', 'otel-collector');
    }
  });

  // Last: the drills restart every dependency, and their verification waits for everything they accepted.
  it('outage drills: Postgres, Redis, RabbitMQ, the collector (kill -9), Prometheus, Loki, Tempo down in turn under load lose nothing accepted', async (t) => {
    const report = await runOutageDrills(s(), (line) => t.diagnostic(line));
    t.diagnostic('component       requests  non-2xx                     accepted  lost orders/spans/logs/samples  samples found/expected  recovery');
    for (const r of report.rows) {
      t.diagnostic(
        `${r.component.padEnd(15)} ${String(r.requests).padStart(8)}  ${(JSON.stringify(r.non2xx)).padEnd(26)}  ${String(r.accepted).padStart(8)}  ` +
          `${`${r.lost.orders}/${r.lost.spans}/${r.lost.logs}/${r.lost.samples}`.padEnd(30)}  ` +
          `${`${r.samples.found}/${r.samples.expected}${r.samples.notScraped > 0 ? ` (${r.samples.notScraped} not scraped)` : ''}`.padEnd(22)}  ` +
          `${r.recoverySeconds ?? '-'} s (down ${r.downSeconds} s); SDK export failures spans/logs ${r.sdkExportFailures.spans}/${r.sdkExportFailures.logs}`,
      );
      if (r.samples.lostAt.length > 0) t.diagnostic(`  ${r.component}: samples lost at ${r.samples.lostAt.join(', ')}`);
    }
    for (const m of report.missing) t.diagnostic(`  missing: ${JSON.stringify(m)}`);
    t.diagnostic(`drills and verification: ${report.seconds} s; collector send failures: ${report.collectorSendFailed}`);
    assert.deepEqual(report.missing, [], 'orders answered 201 whose confirmation, trace or log line never arrived');
    for (const r of report.rows) {
      assert.ok(r.accepted > 0, `${r.component}: no order was accepted around its outage`);
      assert.equal(r.lost.samples, 0, `${r.component}: ${r.lost.samples} scraped samples of the gateway's request counter never reached Prometheus`);
      assert.notEqual(r.recoverySeconds, null, `${r.component}: no fully successful request after its restart`);
    }
    // The telemetry path is off the request path: its outages are invisible to clients.
    for (const r of report.rows.filter((x) => ['otel-collector', 'prometheus', 'loki', 'tempo'].includes(x.component))) {
      assert.deepEqual(r.non2xx, {}, `${r.component}: clients saw errors`);
    }
  });
});
