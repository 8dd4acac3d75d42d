import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { topology } from '@lookout/shop-contracts';
import { metrics as contract } from '@lookout/telemetry/contract';
import { parseMetrics, scrape, ShopStack, sleep, sumOf, waitFor, type Sample } from '@lookout/testkit';
import amqplib from 'amqplib';

const MAX_ATTEMPTS = 3;
const MISSING_ID = 987_654_321;

// One stack for every orders test: starting one takes most of the time these tests run.
describe('orders, its outbox and fulfillment on real Postgres and RabbitMQ', () => {
  let stack: ShopStack;

  before(async () => {
    stack = await ShopStack.start({
      start: ['catalog', 'orders', 'fulfillment'],
      env: {
        fulfillment: { MAX_ATTEMPTS: String(MAX_ATTEMPTS), BATCH_INTERVAL_MS: '50' },
        // The outbox gauges are refreshed in the background: often, so that they follow the orders placed here and
        // go stale within a second of Postgres stopping (which keeps that outage short).
        orders: { OUTBOX_METRICS_INTERVAL_MS: '200' },
      },
    });
  });
  after(async () => {
    await stack.stop();
  });

  const placeOrder = (key: string, productId: number, client = 'outbox-test', extraHeaders: Record<string, string> = {}) =>
    stack.service('orders').fetch('/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, 'lookout-client-id': client, ...extraHeaders },
      body: JSON.stringify({ customerEmail: 'buyer@example.com', items: [{ productId, quantity: 1 }] }),
    });
  const readOrder = (id: number, client?: string) =>
    stack.service('orders').fetch(`/orders/${id}`, { headers: client === undefined ? {} : { 'lookout-client-id': client } });

  const confirmedCount = async (ids: number[]) =>
    (
      await stack.database('orders').query<{ n: number }>(
        `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::bigint[]) AND status = 'confirmed'`,
        [ids],
      )
    ).rows[0]?.n ?? 0;

  it('accepts orders while the broker is down and delivers every one exactly once, in its own trace, when it is back', async () => {
    const fulfillment = stack.service('fulfillment');
    const confirmedBefore = sumOf(await scrape(fulfillment.baseUrl), contract.fulfillmentOrdersConfirmed.name);
    const processedBefore = sumOf(await scrape(fulfillment.baseUrl), contract.messagingClientConsumedMessages.name, { error_type: '' });
    // A durable copy of every order event (it survives the broker restart), to read the trace context each carried.
    const audit = `outbox-test.audit-${randomUUID()}`;
    const connection = await amqplib.connect(stack.rabbitmq.url);
    const setup = await connection.createChannel();
    await setup.assertQueue(audit, { durable: true });
    await setup.bindQueue(audit, topology.exchange, topology.routingKey);
    await connection.close();

    await stack.rabbitmq.stop();
    const ids: number[] = [];
    /** Order id -> the trace id of the request that placed it. */
    const traceOf = new Map<number, string>();
    for (let i = 0; i < 25; i++) {
      const traceId = randomBytes(16).toString('hex');
      const res = await placeOrder(`outage-${i}`, 1 + (i % 50), 'outbox-test', { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
      assert.equal(res.status, 201, await res.clone().text());
      const id = ((await res.json()) as { id: number }).id;
      ids.push(id);
      traceOf.set(id, traceId);
    }
    const orders = stack.service('orders');
    const ready = (await (await orders.fetch('/readyz')).json()) as { status: string };
    assert.equal(ready.status, 'degraded');
    await waitFor('the outbox gauges to count the 25 waiting events', async () => {
      const metrics = await scrape(orders.baseUrl);
      return sumOf(metrics, contract.outboxPendingMessages.name) === 25 && sumOf(metrics, contract.outboxLag.name) > 0 ? true : undefined;
    });
    assert.equal(await confirmedCount(ids), 0);

    // Orders keep coming while the broker returns (each kicks the relay, so a round starts the moment the connection
    // is back, while the relay's channel is still being set up), as they do in the outage drill.
    const returning = { arriving: true };
    const arrivals = (async () => {
      for (let i = 0; returning.arriving || i < 10; i++) {
        const traceId = randomBytes(16).toString('hex');
        const res = await placeOrder(`return-${i}`, 1 + (i % 50), 'outbox-test', { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
        assert.equal(res.status, 201, await res.clone().text());
        const id = ((await res.json()) as { id: number }).id;
        ids.push(id);
        traceOf.set(id, traceId);
        await sleep(20);
      }
    })();
    await stack.rabbitmq.start();
    await sleep(2000);
    returning.arriving = false;
    await arrivals;
    await waitFor('every order confirmed after the broker returned', async () =>
      (await confirmedCount(ids)) === ids.length ? true : undefined,
    60_000, 250);
    await waitFor('the outbox to drain', async () =>
      sumOf(await scrape(orders.baseUrl), contract.outboxPendingMessages.name) === 0 ? true : undefined,
    );
    const metrics = await scrape(fulfillment.baseUrl);
    assert.equal(sumOf(metrics, contract.fulfillmentOrdersConfirmed.name) - confirmedBefore, ids.length);
    assert.equal(sumOf(metrics, contract.messagingClientConsumedMessages.name, { error_type: '' }) - processedBefore, ids.length,
      'an event was processed twice');
    assert.equal(sumOf(metrics, contract.messagingDeadLetteredMessages.name), 0);

    // The backlog went out right after the broker returned, while the relay's channel was being set up again:
    // every event still carries the trace of the request that placed its order, not a trace of its own.
    const reader = await amqplib.connect(stack.rabbitmq.url);
    try {
      const channel = await reader.createChannel();
      const carried = new Map<number, string>();
      for (let msg = await channel.get(audit, { noAck: true }); msg !== false; msg = await channel.get(audit, { noAck: true })) {
        const { orderId } = JSON.parse(msg.content.toString()) as { orderId: number };
        const headers: Record<string, unknown> = msg.properties.headers ?? {};
        const traceparent = headers.traceparent;
        carried.set(orderId, typeof traceparent === 'string' ? traceparent.split('-')[1] ?? '' : '');
      }
      await channel.deleteQueue(audit);
      for (const id of ids) assert.equal(carried.get(id), traceOf.get(id), `the event of order ${id} left the request's trace`);
    } finally {
      await reader.close();
    }
  });

  it('moves a poison message (not a valid event) to the dead-letter queue at once: no retry can fix it', async () => {
    const fulfillment = stack.service('fulfillment');
    const connection = await amqplib.connect(stack.rabbitmq.url);
    const channel = await connection.createConfirmChannel();
    try {
      channel.publish('orders', 'order.created', Buffer.from('{"orderId": "not a number"'), {
        persistent: true,
        messageId: `poison-${randomUUID()}`,
        contentType: 'application/json',
      });
      await channel.waitForConfirms();
      await waitFor('the poison message in the DLQ', async () =>
        (await channel.checkQueue('fulfillment.order-created.dlq')).messageCount === 1 ? true : undefined,
      30_000, 200);
      // The broker shows the message as soon as it is routed; fulfillment counts it once the broker confirmed it.
      const metrics = await waitFor('the dead-lettered message counted', async () => {
        const m = await scrape(fulfillment.baseUrl);
        return sumOf(m, contract.messagingDeadLetteredMessages.name) > 0 ? m : undefined;
      }, 10_000, 100);
      assert.equal(sumOf(metrics, contract.messagingDeadLetteredMessages.name), 1);
      assert.equal(sumOf(metrics, contract.messagingRetriedMessages.name), 0);
      const dead = await channel.get('fulfillment.order-created.dlq', { noAck: true });
      assert.ok(dead !== false);
      assert.equal(dead.properties.headers?.['x-lookout-attempt'], 2);
      assert.equal(dead.properties.headers['x-lookout-failure'], 'invalid');
      assert.match(String(dead.properties.headers['x-lookout-last-error']), /JSON/);
      assert.equal((await channel.checkQueue('fulfillment.order-created')).messageCount, 0);
    } finally {
      await connection.close();
    }
  });

  it('keeps the same order for the same key and body, refuses the key with another body', async () => {
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 10 }, () => placeOrder(key, 7)));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { id: number }[];
    assert.ok(responses.every((r) => r.status === 201));
    assert.equal(new Set(bodies.map((b) => b.id)).size, 1, 'concurrent requests with one key created several orders');
    assert.equal(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 9);
    const rows = await stack.database('orders').query('SELECT 1 FROM idempotency_keys WHERE key = $1', [key]);
    assert.equal(rows.rowCount, 1);
    const outbox = await stack.database('orders').query(`SELECT 1 FROM outbox WHERE payload->>'orderId' = $1`, [String(bodies[0]?.id)]);
    assert.equal(outbox.rowCount, 1, 'a replay wrote a second event');

    const conflicting = await placeOrder(key, 8);
    assert.equal(conflicting.status, 422);
    assert.match(conflicting.headers.get('content-type') ?? '', /problem\+json/);
  });

  it('shows an order only to the client that placed it; to any other it does not exist', async () => {
    const created = await placeOrder(randomUUID(), 3, 'client-a');
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = (await created.json()) as { id: number };

    const own = await readOrder(id, 'client-a');
    assert.equal(own.status, 200);
    assert.equal(((await own.json()) as { id: number }).id, id);

    // What an id that does not exist at all gets, with this order's id in it: nothing may tell the two apart.
    const missing = await readOrder(MISSING_ID, 'client-b');
    assert.equal(missing.status, 404);
    const expected: unknown = JSON.parse((await missing.text()).replaceAll(String(MISSING_ID), String(id)));
    for (const [who, res] of [['client-b', await readOrder(id, 'client-b')], ['no client', await readOrder(id)]] as const) {
      assert.equal(res.status, 404, who);
      assert.equal(res.headers.get('content-type'), missing.headers.get('content-type'), who);
      assert.deepEqual(await res.json(), expected, who);
    }

    const invalid = await readOrder(id, 'not a client id');
    assert.equal(invalid.status, 400);
  });

  // Last: it stops Postgres under every service of the stack.
  it('keeps /metrics fast while Postgres is down: the outbox gauges disappear, and return with Postgres', async () => {
    const orders = stack.service('orders');
    const scrapes: { status: number; ms: number; samples: Sample[] }[] = [];
    const timedScrape = async () => {
      const started = performance.now();
      const res = await orders.fetch('/metrics', { signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      const taken = { status: res.status, ms: performance.now() - started, samples: parseMetrics(text) };
      scrapes.push(taken);
      return taken;
    };
    const hasOutboxGauges = (samples: Sample[]) =>
      [contract.outboxPendingMessages.name, contract.outboxLag.name].map((name) => samples.some((s) => s.name === name));

    // Some RED samples to lose: the ones of a request answered before the outage.
    assert.equal((await readOrder(MISSING_ID, 'client-a')).status, 404);
    await waitFor('the outbox gauges', async () => (hasOutboxGauges((await timedScrape()).samples).every(Boolean) ? true : undefined));

    await stack.postgres.stop();
    let failedRead: number | undefined;
    try {
      await waitFor('the outbox gauges to disappear', async () =>
        hasOutboxGauges((await timedScrape()).samples).some(Boolean) ? undefined : true,
      10_000, 100);
      // A request that fails because of the outage: its RED sample is what /metrics must still deliver.
      failedRead = (await orders.fetch('/orders/1', { headers: { 'lookout-client-id': 'client-a' } })).status;
      await timedScrape();
    } finally {
      await stack.postgres.start();
    }
    assert.equal(failedRead, 503);
    const last = scrapes.at(-1)?.samples ?? [];
    assert.ok(
      sumOf(last, `${contract.httpServerRequestDuration.name}_count`, { http_route: '/orders/:id', http_response_status_code: '503' }) >= 1,
      'the failed request is missing from the scrape taken during the outage',
    );
    for (const [i, taken] of scrapes.entries()) {
      assert.equal(taken.status, 200, `scrape ${i}`);
      assert.ok(taken.ms < 1000, `scrape ${i} took ${Math.round(taken.ms)} ms`);
      assert.ok(taken.samples.some((s) => s.name.startsWith(contract.httpServerRequestDuration.name)), `scrape ${i} lost the RED metrics`);
    }

    await waitFor('the outbox gauges to return', async () =>
      hasOutboxGauges((await timedScrape()).samples).every(Boolean) ? true : undefined,
    15_000, 100);
  });
});
