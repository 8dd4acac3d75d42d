import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { REQUEST_TIMEOUT_HEADER } from '@lookout/http-kit';
import { ADMIN_TOKEN, ShopStack, type ServiceProcess } from '@lookout/testkit';

const DEADLINE_TYPE = 'urn:lookout:problem:deadline-exceeded';

describe('orders passes its remaining budget on to the catalog, and honours its own deadline', () => {
  // Stands in for the catalog: what orders sends it (the budget header) is what is under test.
  let fake: Server;
  let received: (string | undefined)[] = [];
  let answer: (req: IncomingMessage, res: ServerResponse) => void;
  let stack: ShopStack;
  let orders: ServiceProcess;

  const product = (res: ServerResponse, id: number) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, name: 'Thing', priceCents: 500, currency: 'EUR', stock: 5 }));

  before(async () => {
    fake = createServer((req, res) => {
      const value = req.headers[REQUEST_TIMEOUT_HEADER];
      received.push(typeof value === 'string' ? value : undefined);
      req.resume();
      answer(req, res);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    stack = await ShopStack.start({
      start: ['orders'],
      env: { orders: { CATALOG_URL: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` } },
    });
    orders = stack.service('orders');
  });
  after(async () => {
    await stack.stop();
    fake.closeAllConnections();
    await new Promise((resolve) => fake.close(resolve));
  });
  beforeEach(() => {
    received = [];
    answer = (req, res) => product(res, Number(req.url?.split('/').pop()));
  });

  const client = `deadline-${randomUUID()}`;
  async function placeOrder(timeoutMs?: string, productIds = [7]) {
    const started = performance.now();
    const res = await orders.fetch('/orders', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
        'lookout-client-id': client,
        ...(timeoutMs !== undefined && { [REQUEST_TIMEOUT_HEADER]: timeoutMs }),
      },
      body: JSON.stringify({ customerEmail: 'buyer@example.com', items: productIds.map((productId) => ({ productId, quantity: 1 })) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: performance.now() - started };
  }
  const ordersOfClient = async () =>
    (await stack.database('orders').query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE client_id = $1', [client])).rows[0]?.n ?? 0;

  it('sends the catalog what the request has left minus a margin, never more than CATALOG_TIMEOUT_MS', async () => {
    const placed = await placeOrder('800', [7, 8]);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(received.length, 2);
    for (const value of received) {
      const ms = Number(value);
      assert.ok(ms > 500 && ms <= 750, `the catalog was given ${value} ms of an 800 ms budget`);
    }
    received = [];
    assert.equal((await placeOrder()).status, 201);
    assert.deepEqual(received, ['1000'], 'without a deadline the catalog gets CATALOG_TIMEOUT_MS (1000 by default)');
    received = [];
    assert.equal((await placeOrder('5000')).status, 201);
    assert.deepEqual(received, ['1000']);
  });

  it('answers with the deadline problem when the catalog is slower than the budget, and creates no order', async () => {
    const before = await ordersOfClient();
    answer = (req, res) => {
      const timer = setTimeout(() => product(res, 7), 2_000);
      res.on('close', () => clearTimeout(timer));
    };
    const r = await placeOrder('400');
    assert.equal(r.status, 504, JSON.stringify(r.body));
    assert.equal(r.body.type, DEADLINE_TYPE);
    assert.equal(r.body.stage, 'catalog');
    assert.ok(r.ms < 800, `answered after ${r.ms} ms with a 400 ms budget`);
    assert.equal(await ordersOfClient(), before);
  });

  it('answers a request already out of time at once, without calling the catalog', async () => {
    const r = await placeOrder('0');
    assert.equal(r.status, 504);
    assert.equal(r.body.type, DEADLINE_TYPE);
    assert.equal(r.body.stage, 'arrival');
    assert.deepEqual(received, []);
  });

  it('does not call the catalog when what is left is within the margin', async () => {
    const r = await placeOrder('30');
    assert.equal(r.status, 504);
    assert.equal(r.body.stage, 'catalog');
    assert.deepEqual(received, []);
  });

  it('cuts a slow statement at the deadline and rolls the order back', async () => {
    const before = await ordersOfClient();
    const fault = await orders.fetch('/admin/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'slow_queries', ms: 1_500, durationSeconds: 60 }),
    });
    assert.equal(fault.status, 201);
    try {
      const r = await placeOrder('600');
      assert.equal(r.status, 504, JSON.stringify(r.body));
      assert.equal(r.body.stage, 'postgres-query');
      assert.ok(r.ms < 1_100, `answered after ${r.ms} ms with a 600 ms budget`);
    } finally {
      await orders.fetch('/admin/faults/slow_queries', { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    }
    assert.equal(await ordersOfClient(), before);
    const next = await placeOrder('1500');
    assert.equal(next.status, 201, 'the connection of the cut request is not free');
  });
});
