import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, scrape, sumOf, waitFor, type ReceivedSpan, type ServiceProcess } from '@lookout/testkit';
import { CatalogStack, editable, json, request } from './stack.js';

const SPAN_KIND_SERVER = 2;

describe('catalog telemetry', () => {
  let stack: CatalogStack;
  let catalog: ServiceProcess;

  before(async () => {
    stack = await CatalogStack.start();
    catalog = await stack.startCatalog({ DEPLOYMENT_ENVIRONMENT: 'test' });
  });
  after(async () => {
    await stack.stop();
  });

  it('turns one request into one trace: http -> express -> pg and ioredis, with its log line correlated', async () => {
    const traceparentTraceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const current = (await request(catalog, '/products/123')).body;
    const fields = editable(current);
    const res = await request(
      catalog,
      '/products/123',
      {
        ...json('PUT', { ...fields, stock: 424_242 }),
        // An upstream caller's context: the trace must continue it.
        headers: { 'content-type': 'application/json', traceparent: `00-${traceparentTraceId}-1111111111111111-01` },
      },
    );
    assert.equal(res.status, 200);

    const spans = await waitFor('the request\'s spans', () => {
      const found = stack.sink.spansOfTrace(traceparentTraceId);
      const scopes = new Set(found.map((s) => s.scope));
      return ['http', 'express', 'pg', 'ioredis'].every((n) => [...scopes].some((s) => s.includes(`instrumentation-${n}`)))
        ? found
        : undefined;
    });
    const byScope = (name: string) => spans.filter((s) => s.scope.includes(`instrumentation-${name}`));
    const server = byScope('http').find((s) => s.kind === SPAN_KIND_SERVER) as ReceivedSpan;
    assert.ok(server, 'no http server span');
    assert.equal(server.parentSpanId, '1111111111111111', 'the server span does not continue the caller\'s trace');
    assert.equal(server.attributes['http.route'], '/products/:id');

    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
      const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
      return parent === undefined ? [] : [parent, ...ancestors(parent)];
    };
    const handler = byScope('express')[0] as ReceivedSpan;
    assert.ok(ancestors(handler).includes(server), 'express span is not under the http span');
    const update = byScope('pg').find((s) => String(s.attributes['db.query.text'] ?? s.attributes['db.statement']).includes('UPDATE products'));
    assert.ok(update, `no pg span for the UPDATE among ${byScope('pg').map((s) => s.name).join(', ')}`);
    assert.ok(ancestors(update).includes(handler), 'pg span is not under the express span');
    const del = byScope('ioredis').find((s) => s.name === 'del');
    assert.ok(del && ancestors(del).includes(handler), 'ioredis DEL span is not under the express span');
    assert.ok(!JSON.stringify(spans).includes('424242'), 'query parameter values were recorded');

    assert.equal(server.resource['service.name'], 'catalog');
    assert.equal(server.resource['service.version'], '0.1.0');
    assert.equal(server.resource['deployment.environment.name'], 'test');
    assert.match(String(server.resource['service.instance.id']), /^[0-9a-f-]{36}$/);

    // stdout: the log line written while handling the request carries its trace and span ids.
    const line = catalog.logs.find((l) => l.message === 'product updated' && l.trace_id === traceparentTraceId);
    assert.ok(line, 'no correlated log line on stdout');
    assert.ok(spans.some((s) => s.spanId === line.span_id), 'the log line\'s span_id is not a span of the trace');

    // OTLP: the same record, exactly once, with the trace context of the request.
    const records = await waitFor('the log record over OTLP', () => {
      const found = stack.sink.logs.filter((l) => l.body === 'product updated' && l.traceId === traceparentTraceId);
      return found.length > 0 ? found : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(stack.sink.logs.filter((l) => l.body === 'product updated' && l.traceId === traceparentTraceId).length, 1);
    assert.equal(records[0]?.spanId, line.span_id);
    assert.equal(records[0]?.resource['service.name'], 'catalog');
  });

  it('exposes the request latency with an exemplar that names a trace the SDK exported', async () => {
    await request(catalog, '/products/321');
    const samples = await scrape(catalog.baseUrl);
    const withExemplar = samples.filter(
      (s) => s.name === 'http_server_request_duration_seconds_bucket' && s.labels.http_route === '/products/:id' && s.exemplar,
    );
    assert.ok(withExemplar.length > 0, 'no exemplar on the latency histogram');
    const traceId = withExemplar[0]?.exemplar?.labels.trace_id ?? '';
    await waitFor(`trace ${traceId} in the exporter`, () => (stack.sink.spansOfTrace(traceId).length > 0 ? true : undefined));
    for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', 'db_client_connections_max', 'cache_requests_total']) {
      assert.ok(samples.some((s) => s.name === name), `${name} missing from /metrics`);
    }
  });

  it('traces no health or metrics polling', async () => {
    await request(catalog, '/healthz');
    await request(catalog, '/readyz');
    await scrape(catalog.baseUrl);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const polled = stack.sink.spans.filter((s) => /\/(healthz|readyz|metrics)/.test(`${s.name} ${String(s.attributes['url.path'])}`));
    assert.deepEqual(polled.map((s) => s.name), []);
  });

  it('counts what it exported, and what it lost while the collector was unreachable, and keeps serving', async () => {
    assert.ok(sumOf(await scrape(catalog.baseUrl), 'otel_sdk_exported_items_total', { signal: 'traces', outcome: 'success' }) > 0);
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const orphan = await stack.startCatalog({
      SEED_PRODUCTS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: nowhere,
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
    });
    for (let i = 0; i < 20; i++) assert.equal((await request(orphan, `/products/${100 + i}`)).status, 200);
    const lost = await waitFor('failed exports to be counted', async () => {
      const samples = await scrape(orphan.baseUrl);
      const traces = sumOf(samples, 'otel_sdk_exported_items_total', { signal: 'traces', outcome: 'failure' });
      const logs = sumOf(samples, 'otel_sdk_exported_items_total', { signal: 'logs', outcome: 'failure' });
      return traces > 0 && logs > 0 ? { traces, logs } : undefined;
    }, 30_000, 250);
    assert.ok(lost.traces >= 20, `only ${lost.traces} spans counted as lost`);
    assert.equal(await orphan.stop(), 0);
  });
});
