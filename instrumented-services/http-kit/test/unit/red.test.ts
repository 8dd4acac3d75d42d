import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TraceFlags } from '@opentelemetry/api';
import express from 'express';
import { parseMetrics, TEST_SPAN_ID, TEST_TRACE_ID, useContextManager, withTestSpan } from '@lookout/testkit';
import { createLogger, registry } from '@lookout/telemetry';
import { createServiceApp } from '../../src/app.js';
import { FaultRegistry, HTTP_FAULTS, httpFaultSpec } from '../../src/faults.js';
import { HttpProblem } from '../../src/problem.js';
import { httpServerDuration, metricsHandler, requestTelemetry, routeTemplate, sampledForAccessLog } from '../../src/red.js';
import { serviceEnv, serviceSettings } from '../../src/settings.js';
import { z } from 'zod';
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

describe('route labels of requests answered outside their route', () => {
  let server: Server;
  let base: string;
  const logger = createLogger({ stream: new PassThrough().resume() });
  const faults = new FaultRegistry(httpFaultSpec, HTTP_FAULTS, logger);

  before(async () => {
    const { app } = createServiceApp({
      http: serviceSettings({
        PORT: 0,
        HOST: '127.0.0.1',
        SHUTDOWN_TIMEOUT_MS: 1000,
        BODY_LIMIT_BYTES: 1024,
        LOOKOUT_DEMO: false,
        ADMIN_TOKEN: undefined,
        READINESS_DRAIN_MS: 0,
        ACCESS_LOG_LEVEL: 'off',
        ACCESS_LOG_SAMPLE_RATIO: 1,
      }),
      logger,
      checks: [],
      faults,
      // As the gateway does: authentication and the rate limit run before the router, so before any route matched.
      mount: (app) => {
        const api = express.Router();
        api.get('/products', (_req, res) => {
          res.json([]);
        });
        api.get('/products/:id', (req, res) => {
          if (req.params.id === 'boom') throw new Error('boom');
          if (!/^\d+$/.test(req.params.id)) throw new HttpProblem({ status: 400, type: 'validation-failed', title: 'Bad id' });
          res.json({ id: req.params.id });
        });
        app.use(
          '/api',
          (req, _res, next) => {
            next(req.headers['x-key'] === undefined ? new HttpProblem({ status: 401, type: 'unauthorized', title: 'Unauthorized' }) : undefined);
          },
          (req, _res, next) => {
            next(req.headers['x-spent'] === undefined ? undefined : new HttpProblem({ status: 429, type: 'rate-limited', title: 'Too many requests' }));
          },
          api,
        );
      },
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.close();
  });

  beforeEach(() => {
    httpServerDuration.reset();
  });

  async function labelsOf(path: string, init: RequestInit = {}): Promise<string[]> {
    await (await fetch(`${base}${path}`, init)).text();
    const samples = parseMetrics(await (await fetch(`${base}/metrics`)).text()).filter(
      (s) => s.name === 'http_server_request_duration_seconds_count',
    );
    httpServerDuration.reset();
    return samples.map((s) => `${s.labels.http_request_method} ${s.labels.http_route} ${s.labels.http_response_status_code}`);
  }
  const key = { headers: { 'x-key': '1' } };

  it('labels a 401 from middleware before the router with the route the request would have matched', async () => {
    assert.deepEqual(await labelsOf('/api/products/12345'), ['GET /api/products/:id 401']);
    assert.deepEqual(await labelsOf('/api/products?q=x'), ['GET /api/products 401']);
  });

  it('labels a 429 from the rate limit with the route the request would have matched', async () => {
    assert.deepEqual(await labelsOf('/api/products/12345', { headers: { 'x-key': '1', 'x-spent': '1' } }), ['GET /api/products/:id 429']);
  });

  it('labels an error thrown in a mounted route with the full template, mount path included', async () => {
    assert.deepEqual(await labelsOf('/api/products/boom', key), ['GET /api/products/:id 500']);
    assert.deepEqual(await labelsOf('/api/products/abc', key), ['GET /api/products/:id 400']);
  });

  it('labels an injected fault with the route it hit', async () => {
    faults.set({ name: 'errors', ratio: 1, status: 503 }, 60);
    try {
      assert.deepEqual(await labelsOf('/api/products/12345', key), ['GET /api/products/:id 503']);
    } finally {
      faults.clear('errors');
    }
  });

  it('keeps the label set to the route table: unknown paths and methods are unmatched, case variants one template', async () => {
    assert.deepEqual(await labelsOf('/api/nothing/12345', key), ['GET unmatched 404']);
    assert.deepEqual(await labelsOf('/api/nothing/12345'), ['GET unmatched 401']);
    assert.deepEqual(await labelsOf('/api/products/12345', { ...key, method: 'DELETE' }), ['DELETE unmatched 404']);
    assert.deepEqual(await labelsOf('/API/Products/12345', key), ['GET /api/products/:id 200']);
    assert.deepEqual(await labelsOf('/api/products/%FF', key), ['GET unmatched 400']);
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

describe('REQUEST_TELEMETRY', () => {
  const settings = (value: string | undefined) => {
    const env = {
      PORT: 0, HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: 1000, BODY_LIMIT_BYTES: 1024, LOOKOUT_DEMO: false, ADMIN_TOKEN: undefined,
      READINESS_DRAIN_MS: 0, ACCESS_LOG_LEVEL: 'info' as const, ACCESS_LOG_SAMPLE_RATIO: 1,
    };
    const parsed = z.object({ REQUEST_TELEMETRY: serviceEnv(0).REQUEST_TELEMETRY }).parse({ REQUEST_TELEMETRY: value });
    return serviceSettings({ ...env, ...parsed });
  };

  /** What one request to a served app leaves behind: RED samples for its route and access-log lines. */
  async function recorded(value: string | undefined): Promise<{ samples: number; accessLines: number }> {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const logger = createLogger({ stream });
    const { app } = createServiceApp({
      http: settings(value), logger, checks: [], faults: new FaultRegistry(httpFaultSpec, HTTP_FAULTS, logger),
      mount: (a) => a.get('/switch/:id', (req, res) => { res.json({ id: req.params.id }); }),
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      httpServerDuration.reset();
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/switch/1`);
      assert.equal(res.status, 200);
      await res.text();
      // 'finish' fires after the body is flushed: give the recorder its turn.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const samples = parseMetrics(await registry.metrics()).filter(
        (s) => s.name === 'http_server_request_duration_seconds_count' && s.labels.http_route === '/switch/:id',
      );
      return { samples: samples.length, accessLines: lines.filter((l) => l.includes('/switch/:id')).length };
    } finally {
      server.close();
      httpServerDuration.reset();
    }
  }

  it('records each request by default and with true', async () => {
    assert.deepEqual(await recorded(undefined), { samples: 1, accessLines: 1 });
    assert.deepEqual(await recorded('true'), { samples: 1, accessLines: 1 });
  });

  it('false records neither the RED metric nor the access log', async () => {
    assert.deepEqual(await recorded('false'), { samples: 0, accessLines: 0 });
  });
});
