import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { metrics as contract } from '@lookout/telemetry/contract';
import { scrape, ShopStack, sumOf, waitFor } from '@lookout/testkit';
import amqplib from 'amqplib';

const MAX_ATTEMPTS = 3;

describe('orders outbox and fulfillment on real Postgres and RabbitMQ', () => {
  let stack: ShopStack;

  before(async () => {
    stack = await ShopStack.start({
      start: ['catalog', 'orders', 'fulfillment'],
      env: { fulfillment: { MAX_ATTEMPTS: String(MAX_ATTEMPTS), BATCH_INTERVAL_MS: '50' } },
    });
  });
  after(async () => {
    await stack.stop();
  });

  const placeOrder = (key: string, productId: number) =>
    stack.service('orders').fetch('/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, 'lookout-client-id': 'outbox-test' },
      body: JSON.stringify({ customerEmail: 'buyer@example.com', items: [{ productId, quantity: 1 }] }),
    });

  const confirmedCount = async (ids: number[]) =>
    (
      await stack.database('orders').query<{ n: number }>(
        `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::bigint[]) AND status = 'confirmed'`,
        [ids],
      )
    ).rows[0]?.n ?? 0;

  it('accepts orders while the broker is down and delivers every one exactly once when it is back', async () => {
    const fulfillment = stack.service('fulfillment');
    const confirmedBefore = sumOf(await scrape(fulfillment.baseUrl), contract.fulfillmentOrdersConfirmed.name);
    const processedBefore = sumOf(await scrape(fulfillment.baseUrl), contract.messagingClientConsumedMessages.name, { error_type: '' });

    await stack.rabbitmq.stop();
    const ids: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await placeOrder(`outage-${i}`, 1 + (i % 50));
      assert.equal(res.status, 201, await res.clone().text());
      ids.push(((await res.json()) as { id: number }).id);
    }
    const orders = stack.service('orders');
    const ready = (await (await orders.fetch('/readyz')).json()) as { status: string };
    assert.equal(ready.status, 'degraded');
    assert.equal(sumOf(await scrape(orders.baseUrl), contract.outboxPendingMessages.name), 25);
    assert.ok(sumOf(await scrape(orders.baseUrl), contract.outboxLag.name) > 0);
    assert.equal(await confirmedCount(ids), 0);

    await stack.rabbitmq.start();
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
  });

  it('moves a poison message to the dead-letter queue after the configured attempts', async () => {
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
      const metrics = await scrape(fulfillment.baseUrl);
      assert.equal(sumOf(metrics, contract.messagingDeadLetteredMessages.name), 1);
      assert.equal(sumOf(metrics, contract.messagingRetriedMessages.name), MAX_ATTEMPTS - 1);
      const dead = await channel.get('fulfillment.order-created.dlq', { noAck: true });
      assert.ok(dead !== false);
      assert.equal(dead.properties.headers?.['x-lookout-attempt'], MAX_ATTEMPTS + 1);
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
});
