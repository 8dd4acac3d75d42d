import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TraceFlags } from '@opentelemetry/api';
import express from 'express';
import { parseMetrics, TEST_SPAN_ID, TEST_TRACE_ID, useContextManager, withTestSpan } from '@lookout/testkit';
import { createLogger, registry } from '@lookout/telemetry';
import { httpServerDuration, metricsHandler, requestTelemetry, routeTemplate, sampledForAccessLog } from '../../src/red.js';
import type { Server } from 'node:http';

const TRACE_ID = TEST_TRACE_ID;
const SPAN_ID = TEST_SPAN_ID;
const withSpan = withTestSpan;

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

describe('requestTelemetry middleware', () => {
  let server: Server;
  let base: string;
  useContextManager();
  const logStream = new PassThrough();
  const accessLines: Record<string, unknown>[] = [];
  logStream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) accessLines.push(JSON.parse(line) as Record<string, unknown>);
  });

  before(async () => {
    const app = express();
    app.use((_req, _res, next) => {
      // Stands in for the http instrumentation: the request runs inside a sampled span.
      withSpan(TraceFlags.SAMPLED, next);
    });
    app.use(requestTelemetry({ logger: createLogger({ stream: logStream }), level: 'info', sampleRatio: 1 }));
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
  });

  beforeEach(() => {
    httpServerDuration.reset();
    accessLines.length = 0;
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

  it('writes one access-log line per request, with the route template, status and duration', async () => {
    await (await fetch(`${base}/api/products/5`)).text();
    await (await fetch(`${base}/metrics`)).text();
    await new Promise((resolve) => setImmediate(resolve));
    const requests = accessLines.filter((l) => l.message === 'request');
    assert.equal(requests.length, 1, JSON.stringify(accessLines));
    const line = requests[0] ?? {};
    assert.equal(line.http_route, '/api/products/:id');
    assert.equal(line.http_response_status_code, 200);
    assert.equal(line.http_request_method, 'GET');
    assert.equal(typeof line.duration_ms, 'number');
    assert.equal(line.level, 'info');
  });

  it('does not record the scrape itself', async () => {
    await (await fetch(`${base}/metrics`)).text();
    const text = await registry.metrics();
    assert.doesNotMatch(text, /http_route="\/metrics"/);
  });
});

describe('access-log sampling', () => {
  it('decides from the trace id, so every service keeps or drops the same traces', () => {
    assert.equal(sampledForAccessLog('4bf92f3577b34da6a3ce929d00000000', 0.01), true);
    assert.equal(sampledForAccessLog('4bf92f3577b34da6a3ce929dffffffff', 0.99), false);
    assert.equal(sampledForAccessLog('4bf92f3577b34da6a3ce929dffffffff', 1), true);
    assert.equal(sampledForAccessLog('4bf92f3577b34da6a3ce929d00000000', 0), false);
    const kept = Array.from({ length: 1000 }, (_, i) => sampledForAccessLog(`${'0'.repeat(24)}${(i * 4_294_967).toString(16).padStart(8, '0')}`, 0.25));
    const share = kept.filter(Boolean).length / kept.length;
    assert.ok(share > 0.24 && share < 0.26, `kept ${share}`);
  });
});
