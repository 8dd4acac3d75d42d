import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, fetchJson, READ_KEY, scrape, ShopStack, sumOf, waitFor, WRITE_KEY, type JsonAnswer, type ReceivedSpan } from '@lookout/testkit';
import { SignJWT } from 'jose';

const JWT_SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const JWT_ISSUER = 'https://issuer.example.com/';
const JWT_AUDIENCE = 'lookout-api';
const SPAN_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const LOADGEN = path.resolve(__dirname, '../../../../loadgen/dist/src/cli.js');

/** `http_server_request_duration_seconds` observations of one route and status on a service's /metrics. */
async function requestsLabelled(baseUrl: string, route: string, status: number): Promise<number> {
  return sumOf(await scrape(baseUrl), 'http_server_request_duration_seconds_count', {
    http_route: route,
    http_response_status_code: String(status),
  });
}

describe('gateway in front of the whole shop', () => {
  let stack: ShopStack;

  before(async () => {
    stack = await ShopStack.start({ env: { gateway: { JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE, UPSTREAM_TIMEOUT_MS: '800' } } });
  });
  after(async () => {
    await stack.stop();
  });

  function call(pathname: string, init: RequestInit & { key?: string | null } = {}): Promise<JsonAnswer> {
    const headers = new Headers(init.headers);
    if (init.key !== null) headers.set('x-api-key', init.key ?? WRITE_KEY);
    return fetchJson(`${stack.service('gateway').baseUrl}${pathname}`, { ...init, headers });
  }
  const order = (key: string, body: unknown, extra: Record<string, string> = {}) =>
    call('/api/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, ...extra },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const anOrder = (productId = 3) => ({ customerEmail: 'jo@example.com', items: [{ productId, quantity: 1 }] });
  const jwt = (
    claims: Record<string, unknown>,
    expiresIn = '5m',
    secret = JWT_SECRET,
    { iss = JWT_ISSUER, aud = JWT_AUDIENCE, sub = 'alice' }: { iss?: string; aud?: string; sub?: string } = {},
  ) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer(iss).setAudience(aud).setIssuedAt()
      .setExpirationTime(expiresIn).sign(new TextEncoder().encode(secret));

  describe('authentication and scopes', () => {
    it('answers 401 with a challenge for missing or wrong credentials', async () => {
      for (const [name, init] of [
        ['none', { key: null }],
        ['wrong key', { key: 'not-a-key' }],
        ['bearer garbage', { key: null, headers: { authorization: 'Bearer abc.def.ghi' } }],
      ] as const) {
        const r = await call('/api/products/1', init);
        assert.equal(r.status, 401, name);
        assert.match(r.contentType, /^application\/problem\+json/);
        assert.match(r.headers.get('www-authenticate') ?? '', /Bearer/);
      }
    });

    it('answers 403 when the key lacks the scope, and serves it when it has it', async () => {
      assert.equal((await call('/api/products/1', { key: READ_KEY })).status, 200);
      const denied = await call('/api/products', { key: READ_KEY, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.requiredScope, 'write');
      assert.equal((await order(randomUUID(), anOrder(), {})).status, 201);
    });

    it('accepts a valid JWT with its scopes, and refuses expired or forged ones', async () => {
      const reader = await jwt({ scope: 'read' });
      assert.equal((await call('/api/products/2', { key: null, headers: { authorization: `Bearer ${reader}` } })).status, 200);
      const write = await call('/api/orders', {
        key: null,
        method: 'POST',
        headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json', 'idempotency-key': 'jwt-1' },
        body: JSON.stringify(anOrder()),
      });
      assert.equal(write.status, 403);
      const expired = await jwt({ scope: 'read' }, '-1m');
      assert.equal((await call('/api/products/2', { key: null, headers: { authorization: `Bearer ${expired}` } })).status, 401);
      const forged = await jwt({ scope: 'read write' }, '5m', 'another-secret-that-is-long-enough-012345');
      assert.equal((await call('/api/products/2', { key: null, headers: { authorization: `Bearer ${forged}` } })).status, 401);
      // Signed with our secret, but for another issuer or audience, or naming a subject that is not a plain id.
      for (const [name, claims] of [
        ['another issuer', { iss: 'https://elsewhere.example.com/' }],
        ['another audience', { aud: 'another-api' }],
        ['a subject with spaces', { sub: 'alice and bob' }],
        ['a subject with a newline', { sub: 'alice\nbob' }],
      ] as const) {
        const token = await jwt({ scope: 'read' }, '5m', JWT_SECRET, claims);
        const answer = await call('/api/products/2', { key: null, headers: { authorization: `Bearer ${token}` } });
        assert.equal(answer.status, 401, name);
      }
    });

    it('starts a new trace for an outside caller\'s traceparent, links it, and names the trace in traceresponse', async () => {
      const outsideTrace = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
      const outsideSpan = '1111111111111111';
      const res = await call('/api/products/7', {
        key: READ_KEY,
        headers: { traceparent: `00-${outsideTrace}-${outsideSpan}-01`, baggage: 'tenant=evil,user.id=42' },
      });
      assert.equal(res.status, 200);
      const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(res.headers.get('traceresponse') ?? '') ?? [];
      assert.ok(traceId !== undefined && spanId !== undefined, `no traceresponse header: ${res.headers.get('traceresponse') ?? ''}`);
      assert.notEqual(traceId, outsideTrace, 'the gateway continued an outside trace');
      const server = await waitFor('the gateway\'s server span', () =>
        stack.sink.spansOfTrace(traceId).find((s) => s.kind === SPAN_KIND.SERVER && s.resource['service.name'] === 'gateway'));
      assert.equal(server.parentSpanId, undefined, 'the gateway span has a parent');
      assert.deepEqual(server.links.map((l) => [l.traceId, l.spanId]), [[outsideTrace, outsideSpan]]);
      assert.equal(stack.sink.spansOfTrace(outsideTrace).length, 0);
      // Behind the edge the trace continues: the catalog's span is in the gateway's trace.
      const catalog = await waitFor('the catalog\'s span in the same trace', () =>
        stack.sink.spansOfTrace(traceId).find((s) => s.kind === SPAN_KIND.SERVER && s.resource['service.name'] === 'catalog'));
      assert.ok(catalog);
    });
  });

  describe('idempotent orders', () => {
    it('returns the same order for the same key and body, and refuses the key with another body', async () => {
      const key = randomUUID();
      const first = await order(key, anOrder(4));
      const again = await order(key, anOrder(4));
      assert.equal(first.status, 201);
      assert.equal(first.headers.get('location'), `/api/orders/${String(first.body.id)}`);
      assert.equal(again.status, 201);
      assert.equal(again.body.id, first.body.id);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const rows = await stack.database('orders').query('SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1', [key]);
      assert.equal((rows.rows[0] as { n: number }).n, 1);
      const other = await order(key, anOrder(5));
      assert.equal(other.status, 422);
      assert.equal(other.body.type, 'urn:lookout:problem:idempotency-key-reused');
    });

    it('scopes keys per client: the same key from another client is another order', async () => {
      const key = randomUUID();
      const a = await order(key, anOrder(6));
      const token = await jwt({ scope: 'read write' });
      const b = await call('/api/orders', {
        key: null,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(anOrder(6)),
      });
      assert.equal(b.status, 201);
      assert.notEqual(a.body.id, b.body.id);
    });
  });

  it('carries one trace from the gateway through orders and RabbitMQ to fulfillment', async () => {
    const created = await order(randomUUID(), anOrder(9));
    assert.equal(created.status, 201);
    const id = created.body.id as number;
    await waitFor('the order confirmed', async () => ((await call(`/api/orders/${id}`)).body.status === 'confirmed' ? true : undefined));
    const server = await waitFor('the gateway span', () =>
      stack.sink.spans.find((s) => s.kind === SPAN_KIND.SERVER && s.name === 'POST /api/orders' && s.resource['service.name'] === 'gateway'
        && stack.sink.spansOfTrace(s.traceId).some((o) => o.resource['service.name'] === 'orders' && o.attributes['http.response.status_code'] === 201
          && o.kind === SPAN_KIND.SERVER)
        && stack.sink.spansOfTrace(s.traceId).some((c) => c.kind === SPAN_KIND.CONSUMER && c.resource['service.name'] === 'fulfillment')),
    15_000);
    const spans = await waitFor('spans from every hop', () => {
      const all = stack.sink.spansOfTrace(server.traceId);
      return all.some((s) => s.resource['service.name'] === 'fulfillment' && s.scope.includes('pg')) ? all : undefined;
    });
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const chain = (span: ReceivedSpan): string[] => {
      const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
      return [`${String(span.resource['service.name'])}:${span.name}`, ...(parent === undefined ? [] : chain(parent))];
    };
    const consumer = spans.find((s) => s.kind === SPAN_KIND.CONSUMER) as ReceivedSpan;
    const producer = spans.find((s) => s.kind === SPAN_KIND.PRODUCER && s.resource['service.name'] === 'orders');
    assert.ok(producer, 'no publish span from orders');
    const path = chain(consumer);
    assert.equal(path.at(-1), 'gateway:POST /api/orders', `the consumer span does not lead back to the gateway: ${path.join(' <- ')}`);
    assert.ok(path.some((p) => p.startsWith('orders:')), path.join(' <- '));
    const services = new Set(spans.map((s) => s.resource['service.name']));
    for (const s of ['gateway', 'catalog', 'orders', 'fulfillment']) assert.ok(services.has(s), `${s} missing from the trace`);
    assert.ok(spans.some((s) => s.resource['service.name'] === 'orders' && s.name.includes('INSERT')), 'no pg span in orders');
  });

  describe('bad input to every public route', () => {
    const bigBody = JSON.stringify({ ...anOrder(), customerEmail: `${'x'.repeat(20_000)}@example.com` });
    const cases: [string, string, RequestInit][] = [
      ['product id not a number', '/api/products/abc', {}],
      ['negative product id', '/api/products/-4', {}],
      ['search limit 1e9', '/api/products?limit=1e9', {}],
      ['search page 0', '/api/products?page=0', {}],
      ['search q too long', `/api/products?q=${'a'.repeat(300)}`, {}],
      ['search q invalid UTF-8', '/api/products?q=%FF%FE', {}],
      ['search q with NUL', '/api/products?q=a%00b', {}],
      ['search category invalid UTF-8', '/api/products?category=%FF', {}],
      ['search category with NUL', '/api/products?category=toys%00', {}],
      ['product id malformed escape', '/api/products/%FF', {}],
      ['order id stray %', '/api/orders/%', {}],
      ['create product: NUL in name', '/api/products', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"NUL-1","name":"a\\u0000b","category":"home","priceCents":1}' }],
      ['create product: malformed JSON', '/api/products', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":' }],
      ['create product: missing fields', '/api/products', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"A-1"}' }],
      ['create product: text body', '/api/products', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }],
      ['replace product: bad id', '/api/products/1x', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' }],
      ['replace product: invalid body', '/api/products/1', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"priceCents":-1}' }],
      ['order: no idempotency key', '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(anOrder()) }],
      ['order: malformed JSON', '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'bad-1' }, body: '{"items": [' }],
      ['order: no items', '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'bad-2' }, body: '{"customerEmail":"a@b.io","items":[]}' }],
      ['order: quantity 0', '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'bad-3' }, body: '{"customerEmail":"a@b.io","items":[{"productId":1,"quantity":0}]}' }],
      ['order: bad e-mail', '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'bad-4' }, body: '{"customerEmail":"nope","items":[{"productId":1,"quantity":1}]}' }],
      ['order: unknown product', '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'bad-5' }, body: '{"customerEmail":"a@b.io","items":[{"productId":987654321,"quantity":1}]}' }],
      ['order: unknown field', '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'bad-6' }, body: '{"customerEmail":"a@b.io","items":[{"productId":1,"quantity":1}],"discount":100}' }],
      ['order: oversized body', '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'bad-7' }, body: bigBody }],
      ['order: SQL in key', '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': "x' OR 1=1 --" }, body: JSON.stringify({ ...anOrder(), items: 'all' }) }],
      ['order id not a number', '/api/orders/abc', {}],
      ['unknown order', '/api/orders/999999999', {}],
      ['unknown route', '/api/customers', {}],
      ['outside the API', '/admin-console', {}],
    ];

    it('refuses a NUL or invalid UTF-8 in a search parameter itself, naming it, without calling the catalog', async () => {
      const catalog = stack.service('catalog');
      const searches = async () => sumOf(await scrape(catalog.baseUrl), 'http_server_request_duration_seconds_count', { http_route: '/products' });
      const before = await searches();
      for (const [query, field] of [['q=%FF%FE', 'q'], ['q=a%00b', 'q'], ['category=%FF', 'category'], ['category=toys%00', 'category'], ['limit=1%00', 'limit']]) {
        const r = await call(`/api/products?${query}`);
        assert.equal(r.status, 400, query);
        assert.equal(r.body.instance, '/api/products', `${query}: answered by the catalog, not the gateway`);
        assert.deepEqual((r.body.errors as { in: string; field: string }[]).map((e) => `${e.in} ${e.field}`), [`query ${field}`], query);
      }
      assert.equal(await searches(), before);
    });

    it('answers 4xx problem+json, never 5xx, and writes nothing', async () => {
      const count = async () =>
        (await stack.database('orders').query<{ n: number }>('SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM outbox) AS n')).rows[0]?.n;
      const before = await count();
      const failures: string[] = [];
      for (const [name, pathname, init] of cases) {
        const r = await call(pathname, init);
        if (!(r.status >= 400 && r.status < 500 && r.contentType.startsWith('application/problem+json'))) {
          failures.push(`${name}: ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`);
        }
      }
      assert.deepEqual(failures, []);
      assert.equal(await count(), before);
    });
  });

  describe('route labels', () => {
    it('labels a 401, a validation error and an unknown route by route template, never by raw path', async () => {
      // Its /metrics is on the management port.
      const gateway = stack.service('gateway').managementUrl;
      const before = {
        unauthorized: await requestsLabelled(gateway, '/api/products/:id', 401),
        invalid: await requestsLabelled(gateway, '/api/products/:id', 400),
        unknown: await requestsLabelled(gateway, 'unmatched', 404),
      };
      assert.equal((await call('/api/products/31337', { key: null })).status, 401);
      assert.equal((await call('/api/products/not-an-id')).status, 400);
      assert.equal((await call('/api/no-such-route/31337')).status, 404);
      assert.deepEqual(
        {
          unauthorized: (await requestsLabelled(gateway, '/api/products/:id', 401)) - before.unauthorized,
          invalid: (await requestsLabelled(gateway, '/api/products/:id', 400)) - before.invalid,
          unknown: (await requestsLabelled(gateway, 'unmatched', 404)) - before.unknown,
        },
        { unauthorized: 1, invalid: 1, unknown: 1 },
      );
      const samples = await scrape(gateway);
      assert.ok(!samples.some((s) => /31337|not-an-id/.test(JSON.stringify(s.labels))), 'a raw path leaked into a label');
    });
  });

  describe('management listener', () => {
    it('keeps /metrics, /readyz and /admin off the public port: 404 there, answered on the management port', async () => {
      const gateway = stack.service('gateway');
      assert.notEqual(gateway.managementUrl, gateway.baseUrl, 'the gateway has no management port');
      for (const pathname of ['/metrics', '/readyz', '/admin/faults']) {
        const r = await fetchJson(`${gateway.baseUrl}${pathname}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        assert.equal(r.status, 404, pathname);
        assert.match(r.contentType, /^application\/problem\+json/, pathname);
      }
      assert.equal((await fetchJson(`${gateway.baseUrl}/healthz`)).status, 200);
      assert.equal((await call('/api/products/1', { key: READ_KEY })).status, 200);

      const metrics = await gateway.manage('/metrics');
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /http_server_request_duration_seconds_count\{[^}]*http_route="\/api\/products\/:id"/);
      const ready = await fetchJson(`${gateway.managementUrl}/readyz`);
      assert.equal(ready.status, 200);
      assert.ok(['ready', 'degraded'].includes(String(ready.body.status)), JSON.stringify(ready.body));
      assert.equal((await fetchJson(`${gateway.managementUrl}/healthz`)).status, 200);
      assert.equal((await gateway.manage('/admin/faults')).status, 401, 'the admin token is still required there');
      const faults = await fetchJson(`${gateway.managementUrl}/admin/faults`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(faults.status, 200);
      assert.ok(Array.isArray(faults.body.supported));
      // The API is not on the management port.
      assert.equal((await fetchJson(`${gateway.managementUrl}/api/products/1`, { headers: { 'x-api-key': READ_KEY } })).status, 404);
    });

    it('counts none of the management port\'s requests in the API\'s RED metrics', async () => {
      const gateway = stack.service('gateway');
      const total = async () => sumOf(await scrape(gateway.managementUrl), 'http_server_request_duration_seconds_count', {});
      const before = await total();
      for (let i = 0; i < 3; i++) {
        await (await gateway.manage('/admin/faults', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).arrayBuffer();
        await (await gateway.manage('/no-such-route')).arrayBuffer();
      }
      assert.equal(await total(), before);
      // While a request to the public port is.
      await call('/api/products/1', { key: READ_KEY });
      assert.equal(await total(), before + 1);
    });
  });

  describe('upstream failures', () => {
    it('answers 504 quickly when an upstream is too slow, and recovers when it is fast again', async () => {
      const catalog = stack.service('catalog');
      const fault = await catalog.fetch('/admin/faults', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'latency', ms: 3000, durationSeconds: 30 }),
      });
      assert.equal(fault.status, 201);
      const started = Date.now();
      const slow = await call('/api/products/1');
      const elapsed = Date.now() - started;
      assert.equal(slow.status, 504);
      assert.equal(slow.body.upstream, 'catalog');
      assert.ok(elapsed < 3000, `took ${elapsed} ms`);
      await catalog.fetch('/admin/faults/latency', { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal((await call('/api/products/1')).status, 200);
    });

    it('gives the catalog its budget, so a slow database is cut there at the gateway timeout, not seconds later', async () => {
      const catalog = stack.service('catalog');
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const used = async () => sumOf(await scrape(catalog.baseUrl), 'db_client_connection_count', { db_client_connection_state: 'used' });
      const fault = await catalog.fetch('/admin/faults', { method: 'POST', headers: admin, body: JSON.stringify({ name: 'slow_queries', ms: 3000, durationSeconds: 30 }) });
      assert.equal(fault.status, 201);
      let slow: JsonAnswer;
      let elapsed: number;
      try {
        const started = Date.now();
        // Not cached yet: the lookup reaches Postgres, where the fault holds it.
        slow = await call(`/api/products/${900 + Math.floor(Math.random() * 90)}`, { key: READ_KEY });
        elapsed = Date.now() - started;
        // Right after the answer the catalog holds no connection: it stopped with the gateway, not 3 s later.
        assert.equal(await used(), 0, 'the catalog still works on a request the gateway gave up on');
      } finally {
        await catalog.fetch('/admin/faults/slow_queries', { method: 'DELETE', headers: admin });
      }
      // The catalog's own deadline answer (UPSTREAM_TIMEOUT_MS 800 less the margin), passed on as it is.
      assert.equal(slow.status, 504, JSON.stringify(slow.body));
      assert.match(String(slow.body.detail), /catalog service answered 504/);
      assert.equal(slow.headers.get('retry-after'), '1');
      assert.ok(elapsed >= 700 && elapsed < 1500, `took ${elapsed} ms`);
    });

    it('answers 502 when an upstream is down, and serves again once it is back', async () => {
      const orders = stack.service('orders');
      await orders.stop();
      const r = await call('/api/orders/1');
      assert.equal(r.status, 502);
      assert.match(String(r.body.detail), /orders service cannot be reached/);
      const ready = await fetchJson(`${stack.service('gateway').managementUrl}/readyz`);
      assert.equal(ready.body.status, 'degraded');
      await stack.startService('orders', { PORT: String(orders.port) });
      assert.equal((await call('/api/orders/1')).status, 200);
    });
  });

  describe('fault admin and drills', () => {
    it('refuses the admin endpoint without the token and faults a service does not implement', async () => {
      const catalog = stack.service('catalog');
      assert.equal((await catalog.fetch('/admin/faults')).status, 401);
      const unsupported = await catalog.fetch('/admin/faults', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'consumer_paused' }),
      });
      assert.equal(unsupported.status, 422);
    });

    it('switches an error fault on and off with the loadgen drill command', async () => {
      const catalog = stack.service('catalog');
      const drill = promisify(execFile)(process.execPath, [
        LOADGEN, 'drill', '--target', catalog.baseUrl, '--fault', 'errors', '--ratio', '1', '--status', '503',
        '--duration', '3s', '--admin-token', ADMIN_TOKEN,
      ]);
      await waitFor('the fault to be on', async () => ((await call('/api/products/1')).status === 503 ? true : undefined));
      const { stderr } = await drill;
      assert.match(stderr, /fault errors off/);
      assert.equal((await call('/api/products/1')).status, 200);
      // The fault answers before the catalog's router: still counted against the route the requests were for.
      assert.ok((await requestsLabelled(catalog.baseUrl, '/products/:id', 503)) >= 1, 'no 503 labelled /products/:id');
      assert.equal(await requestsLabelled(catalog.baseUrl, 'unmatched', 503), 0);
    });
  });

  describe('rate limiting', () => {
    it('answers 429 with Retry-After once the budget is spent, and serves again after the window', async () => {
      // The window is long enough for 7 requests on a loaded machine; the budget starts with the first request.
      const limited = await stack.startService('gateway', { RATE_LIMIT_REQUESTS: '5', RATE_LIMIT_WINDOW_SECONDS: '6' });
      // Until its Redis client is connected, the gateway counts in memory (the insurance limiter), which would add a
      // budget of its own: the shared budget is what is under test.
      await waitFor('the new gateway\'s Redis connection', async () => {
        const ready = await fetchJson(`${limited.managementUrl}/readyz`);
        const checks = ready.body.checks as Record<string, { status: string }> | undefined;
        return checks?.redis?.status === 'up' ? true : undefined;
      });
      const get = async () => {
        const res = await limited.fetch('/api/products/1', { headers: { 'x-api-key': READ_KEY } });
        await res.arrayBuffer();
        return res;
      };
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 7; i++) {
        last = await get();
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
      assert.equal(await requestsLabelled(limited.managementUrl, '/api/products/:id', 429), 2, 'the 429s are not labelled with their route');
      assert.ok(Number(last?.headers.get('retry-after')) >= 1);
      assert.equal(last?.headers.get('ratelimit-remaining'), '0');
      assert.match(last.headers.get('content-type') ?? '', /problem\+json/);
      // Another client has its own budget.
      const other = await limited.fetch('/api/products/1', { headers: { 'x-api-key': WRITE_KEY } });
      assert.equal(other.status, 200);
      // The load generator's demo key carries a budget of its own, far above the default.
      const loadgen = await limited.fetch('/api/products/1', { headers: { 'x-api-key': 'lookout-demo-loadgen-key' } });
      assert.equal(loadgen.status, 200);
      assert.equal(loadgen.headers.get('ratelimit-limit'), '60000');
      await new Promise((resolve) => setTimeout(resolve, 6100));
      assert.equal((await get()).status, 200);
    });

    it('limits every request per address before authentication: bad credentials, /readyz and /admin included', async () => {
      const limited = await stack.startService('gateway', { RATE_LIMIT_IP_REQUESTS: '10', RATE_LIMIT_WINDOW_SECONDS: '30' });
      // Counted in Redis (shared by instances) once connected; the management port has no limit, so polling it spends nothing.
      await waitFor('the new gateway\'s Redis connection', async () => {
        const ready = await fetchJson(`${limited.managementUrl}/readyz`);
        return (ready.body.checks as Record<string, { status: string }> | undefined)?.redis?.status === 'up' ? true : undefined;
      });
      // On the public port /readyz and /admin are unknown routes, but the per-address limit runs first: both spend.
      for (const pathname of ['/readyz', '/admin/faults']) {
        const res = await limited.fetch(pathname);
        await res.arrayBuffer();
        assert.equal(res.status, 404, pathname);
      }
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await limited.fetch('/api/products/1', { headers: { 'x-api-key': 'not-a-key' } });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      // The two requests above (and any of the harness's /healthz polls after Redis connected) spent from the same
      // budget first: at most 8 401s, then only 429s.
      const firstLimited = statuses.indexOf(429);
      assert.ok(firstLimited > 0 && firstLimited <= 8, statuses.join(','));
      assert.ok(statuses.slice(0, firstLimited).every((s) => s === 401), statuses.join(','));
      assert.ok(statuses.slice(firstLimited).every((s) => s === 429), statuses.join(','));
      for (const pathname of ['/readyz', '/admin/faults', '/api/products/1']) {
        const res = await limited.fetch(pathname, { headers: { 'x-api-key': READ_KEY, authorization: `Bearer ${ADMIN_TOKEN}` } });
        assert.equal(res.status, 429, pathname);
        assert.ok(Number(res.headers.get('retry-after')) >= 1, pathname);
        assert.match((await res.json() as { detail: string }).detail, /from this address/);
      }
      // The management listener is internal: no per-address limit, so probes and scrapes never get 429.
      assert.equal((await limited.manage('/readyz')).status, 200);
      await limited.stop();
    });
  });
});
