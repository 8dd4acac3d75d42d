import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import express from 'express';
import { parseMetrics } from '@lookout/testkit';
import {
  exemplarFor,
  httpServerDuration,
  metricsHandler,
  registry,
  requestMetrics,
  routeTemplate,
  timeDbOperation,
} from '../../src/metrics.js';
import type { Server } from 'node:http';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

function withSpan<T>(flags: TraceFlags, fn: () => T): T {
  const span = trace.wrapSpanContext({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: flags });
  return context.with(trace.setSpan(context.active(), span), fn);
}

describe('routeTemplate', () => {
  it('joins the router mount path and the route path', () => {
    assert.equal(routeTemplate({ baseUrl: '/api', route: { path: '/products/:id' } }), '/api/products/:id');
    assert.equal(routeTemplate({ baseUrl: '', route: { path: '/products/:id' } }), '/products/:id');
    assert.equal(routeTemplate({ baseUrl: '/api', route: { path: '/' } }), '/api');
    assert.equal(routeTemplate({ baseUrl: '', route: { path: '/' } }), '/');
  });

  it('labels a request without a matched route as unmatched, never with its raw path', () => {
    assert.equal(routeTemplate({ baseUrl: '', route: undefined }), 'unmatched');
  });
});

describe('requestMetrics middleware', () => {
  let server: Server;
  let base: string;
  const contextManager = new AsyncLocalStorageContextManager();

  before(async () => {
    context.setGlobalContextManager(contextManager.enable());
    const app = express();
    app.use((_req, _res, next) => {
      // Stands in for the http instrumentation: the request runs inside a sampled span.
      withSpan(TraceFlags.SAMPLED, next);
    });
    app.use(requestMetrics());
    app.get('/metrics', metricsHandler());
    const products = express.Router();
    products.get('/products/:id', (req, res) => {
      res.status(req.params.id === '404' ? 404 : 200).json({ id: req.params.id });
    });
    app.use('/api', products);
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.close();
    context.disable();
  });

  beforeEach(() => {
    httpServerDuration.reset();
  });

  it('labels by method, route template and status code, not by the raw path', async () => {
    for (const id of ['1', '2', '3', '404']) await (await fetch(`${base}/api/products/${id}`)).text();
    await (await fetch(`${base}/no/such/path/12345`)).text();
    const samples = parseMetrics(await (await fetch(`${base}/metrics`)).text()).filter(
      (s) => s.name === 'http_server_request_duration_seconds_count',
    );
    const byLabels = Object.fromEntries(
      samples.map((s) => [`${s.labels.http_request_method} ${s.labels.http_route} ${s.labels.http_response_status_code}`, s.value]),
    );
    assert.deepEqual(byLabels, {
      'GET /api/products/:id 200': 3,
      'GET /api/products/:id 404': 1,
      'GET unmatched 404': 1,
    });
    assert.ok(!samples.some((s) => JSON.stringify(s.labels).includes('12345')), 'raw path leaked into a label');
  });

  it('attaches the trace of the request as exemplar, in OpenMetrics format', async () => {
    await (await fetch(`${base}/api/products/7`)).text();
    const res = await fetch(`${base}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /application\/openmetrics-text/);
    const bucket = parseMetrics(await res.text()).find(
      (s) => s.name === 'http_server_request_duration_seconds_bucket' && s.exemplar !== undefined,
    );
    assert.ok(bucket, 'no bucket carries an exemplar');
    assert.deepEqual(bucket.exemplar?.labels, { trace_id: TRACE_ID, span_id: SPAN_ID });
    assert.equal(bucket.labels.http_route, '/api/products/:id');
  });

  it('does not record the scrape itself', async () => {
    await (await fetch(`${base}/metrics`)).text();
    const text = await registry.metrics();
    assert.doesNotMatch(text, /http_route="\/metrics"/);
  });
});

describe('exemplarFor', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  before(() => context.setGlobalContextManager(contextManager.enable()));
  after(() => context.disable());

  it('gives trace_id and span_id of a sampled span', () => {
    assert.deepEqual(
      withSpan(TraceFlags.SAMPLED, () => exemplarFor()),
      { trace_id: TRACE_ID, span_id: SPAN_ID },
    );
  });

  it('gives nothing for an unsampled span, whose trace would not resolve in the backend', () => {
    assert.equal(withSpan(TraceFlags.NONE, () => exemplarFor()), undefined);
  });

  it('gives nothing outside a span', () => {
    assert.equal(exemplarFor(), undefined);
  });

  it('is attached to database operation timings too, with the outcome', async () => {
    await withSpan(TraceFlags.SAMPLED, () => timeDbOperation('unit.ok', () => Promise.resolve(1)));
    await assert.rejects(withSpan(TraceFlags.SAMPLED, () => timeDbOperation('unit.fail', () => Promise.reject(new Error('x')))));
    const samples = parseMetrics(await registry.metrics());
    const count = (op: string, outcome: string) =>
      samples.find(
        (s) => s.name === 'db_client_operation_duration_seconds_count' && s.labels.db_operation_name === op && s.labels.outcome === outcome,
      )?.value;
    assert.equal(count('unit.ok', 'success'), 1);
    assert.equal(count('unit.fail', 'error'), 1);
    const withExemplar = samples.find(
      (s) => s.name === 'db_client_operation_duration_seconds_bucket' && s.labels.db_operation_name === 'unit.ok' && s.exemplar,
    );
    assert.equal(withExemplar?.exemplar?.labels.trace_id, TRACE_ID);
  });
});
