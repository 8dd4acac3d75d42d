import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metrics } from '@lookout/telemetry/contract';
import { anyError, freePort, scrape, sumOf, waitFor, type ReceivedSpan, type ServiceProcess, type ShopStack } from '@lookout/testkit';
import { catalogStack, editable, json, request } from './helpers.js';

const SPAN_KIND_SERVER = 2;

describe('catalog telemetry', () => {
  let stack: ShopStack;
  let catalog: ServiceProcess;

  before(async () => {
    ({ stack, catalog } = await catalogStack({ DEPLOYMENT_ENVIRONMENT: 'test' }));
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
    // The invalidation: one script (bump the key's generation, delete the entry).
    const invalidation = byScope('ioredis').find((s) => s.name === 'eval');
    assert.ok(invalidation && ancestors(invalidation).includes(handler), 'ioredis EVAL span (the invalidation) is not under the express span');
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
      (s) => s.name === `${metrics.httpServerRequestDuration.name}_bucket` && s.labels.http_route === '/products/:id' && s.exemplar,
    );
    assert.ok(withExemplar.length > 0, 'no exemplar on the latency histogram');
    const traceId = withExemplar[0]?.exemplar?.labels.trace_id ?? '';
    await waitFor(`trace ${traceId} in the exporter`, () => (stack.sink.spansOfTrace(traceId).length > 0 ? true : undefined));
    for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', metrics.dbClientConnectionMax.name, metrics.cacheRequests.name]) {
      assert.ok(samples.some((s) => s.name === name), `${name} missing from /metrics`);
    }
  });

  it('writes one access-log line for a traced read, found by its trace id on stdout and over OTLP', async () => {
    const traceId = 'b1b2c3d4e5f60718293a4b5c6d7e8f91';
    const res = await request(catalog, '/products/77', { headers: { traceparent: `00-${traceId}-2222222222222222-01` } });
    assert.equal(res.status, 200);
    const line = await waitFor('the access-log line', () =>
      catalog.logs.find((l) => l.message === 'request' && l.trace_id === traceId),
    );
    assert.equal(line.http_route, '/products/:id');
    assert.equal(line.http_response_status_code, 200);
    assert.equal(line.http_request_method, 'GET');
    assert.equal(typeof line.duration_ms, 'number');
    await waitFor('the access-log record over OTLP', () =>
      stack.sink.logs.some((l) => l.body === 'request' && l.traceId === traceId) ? true : undefined,
    );
    assert.equal(catalog.logs.filter((l) => l.message === 'request' && l.trace_id === traceId).length, 1);
  });

  it('renames all three signals with OTEL_SERVICE_NAME, and labels every series with the same identity', async () => {
    const renamed = await stack.startService('catalog', {
      SEED_PRODUCTS: '0',
      OTEL_SERVICE_NAME: 'catalog-canary',
      OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=canary-1',
      DEPLOYMENT_ENVIRONMENT: 'test',
    });
    const traceId = 'c1b2c3d4e5f60718293a4b5c6d7e8f92';
    assert.equal((await request(renamed, '/products/78', { headers: { traceparent: `00-${traceId}-3333333333333333-01` } })).status, 200);
    const span = await waitFor('the renamed service\'s span', () => stack.sink.spansOfTrace(traceId).find((s) => s.kind === SPAN_KIND_SERVER));
    assert.equal(span.resource['service.name'], 'catalog-canary');
    assert.equal(span.resource['service.instance.id'], 'canary-1');
    const record = await waitFor('the renamed service\'s log record', () => stack.sink.logs.find((l) => l.traceId === traceId));
    assert.equal(record.resource['service.name'], 'catalog-canary');
    assert.equal(renamed.logs.find((l) => l.trace_id === traceId)?.service, 'catalog-canary');
    const samples = await scrape(renamed.baseUrl);
    assert.ok(samples.length > 50);
    for (const s of samples) {
      assert.equal(s.labels.service_name, 'catalog-canary', s.name);
      assert.equal(s.labels.service_instance_id, 'canary-1', s.name);
      assert.equal(s.labels.service_namespace, 'lookout', s.name);
      assert.equal(s.labels.deployment_environment_name, 'test', s.name);
    }
    assert.equal(await renamed.stop(), 0);
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
    assert.ok(sumOf(await scrape(catalog.baseUrl), metrics.otelSdkExporterSpanExported.name, { error_type: '' }) > 0);
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const orphan = await stack.startService('catalog', {
      SEED_PRODUCTS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: nowhere,
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
    });
    for (let i = 0; i < 20; i++) assert.equal((await request(orphan, `/products/${100 + i}`)).status, 200);
    const lost = await waitFor('failed exports to be counted', async () => {
      const samples = await scrape(orphan.baseUrl);
      const traces = sumOf(samples, metrics.otelSdkExporterSpanExported.name, { error_type: anyError });
      const logs = sumOf(samples, metrics.otelSdkExporterLogExported.name, { error_type: anyError });
      return traces > 0 && logs > 0 ? { traces, logs } : undefined;
    }, 30_000, 250);
    assert.ok(lost.traces >= 20, `only ${lost.traces} spans counted as lost`);
    assert.equal(await orphan.stop(), 0);
  });
});
