import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep, waitFor, type ShopStack } from '@lookout/testkit';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import {
  brokerChannel,
  clearFault,
  confirmedCount,
  emailRows,
  eventId,
  fulfillmentStack,
  insertOrders,
  logsOf,
  orderEvent,
  outcomes,
  publishEvents,
  queueDepth,
  queues,
  setFault,
} from './helpers.js';

const SENT = 'order confirmation e-mail sent';
const ALREADY_SENT = 'order confirmation e-mail already sent, not sent again';

describe('fulfillment under dependency faults, redelivery and shutdown', () => {
  let stack: ShopStack;
  let connection: ChannelModel;
  let channel: ConfirmChannel;

  before(async () => {
    stack = await fulfillmentStack();
    ({ connection, channel } = await brokerChannel(stack));
  });
  after(async () => {
    await connection.close().catch(() => undefined);
    await stack.stop();
  });

  const events = (ids: readonly number[]) => ids.map((id) => ({ content: orderEvent(id), messageId: eventId(), orderId: id }));

  it('loses nothing and dead-letters nothing through a Postgres outage longer than every retry', async () => {
    const fulfillment = stack.service('fulfillment');
    const before = await outcomes(fulfillment);
    const ids = await insertOrders(stack, 30);
    const first = events(ids.slice(0, 15));
    const second = events(ids.slice(15));

    // The first half is held in processing (each query waits 1 s) when Postgres stops.
    await setFault(fulfillment, { name: 'slow_queries', ms: 1000 });
    await publishEvents(channel, first);
    await waitFor('the first events delivered to fulfillment', async () => ((await queueDepth(channel, queues.main)) === 0 ? true : undefined), 10_000, 50);
    await stack.postgres.stop();
    const stoppedAt = Date.now();
    try {
      await clearFault(fulfillment, 'slow_queries');
      // The second half arrives during the outage.
      await publishEvents(channel, second);
      await waitFor('fulfillment to pause', () => (logsOf(fulfillment, 'postgres unavailable: consumption paused') > 0 ? true : undefined), 10_000, 50);
      await sleep(Math.max(0, 5_000 - (Date.now() - stoppedAt)));
      assert.equal(await queueDepth(channel, queues.dlq), 0, 'dead-lettered during the outage');
      // Paused: the events wait in the main queue (not retried, not held by the consumer).
      assert.equal(await queueDepth(channel, queues.main), 30);
    } finally {
      await stack.postgres.start();
    }

    await waitFor('every order confirmed after Postgres returned', async () => ((await confirmedCount(stack, ids)) === ids.length ? true : undefined), 60_000, 200);
    assert.ok(logsOf(fulfillment, 'postgres available again: consumption resumed') >= 1);
    assert.equal(await queueDepth(channel, queues.dlq), 0);
    assert.equal(await queueDepth(channel, queues.retry), 0);
    assert.equal(await queueDepth(channel, queues.main), 0);
    const after = await outcomes(fulfillment);
    assert.equal(after.deadLettered - before.deadLettered, 0);
    assert.ok(after.retried - before.retried >= 1, 'no message was handed back during the outage');
    assert.equal(after.processed - before.processed, ids.length, 'an event was processed twice, or not at all');
    const all = [...first, ...second].map((e) => e.messageId);
    const emails = await emailRows(stack, all);
    assert.deepEqual(all.filter((id) => emails.get(id) !== 1), [], 'an e-mail is missing');
    assert.deepEqual(all.filter((id) => logsOf(fulfillment, SENT, id) !== 1), [], 'an e-mail was not sent exactly once');
  });

  it('sends the e-mail once for a redelivered event: a duplicate, and a redelivery after a crash', async () => {
    const fulfillment = stack.service('fulfillment');
    const [duplicated, crashed] = await insertOrders(stack, 2);
    assert.ok(duplicated !== undefined && crashed !== undefined);
    const before = await outcomes(fulfillment);
    const duplicateId = eventId();
    await publishEvents(channel, [
      { content: orderEvent(duplicated), messageId: duplicateId },
      { content: orderEvent(duplicated), messageId: duplicateId },
    ]);
    await waitFor('both copies processed', async () => ((await outcomes(fulfillment)).processed - before.processed === 2 ? true : undefined), 15_000, 50);
    assert.equal(logsOf(fulfillment, SENT, duplicateId), 1);
    assert.equal(logsOf(fulfillment, ALREADY_SENT, duplicateId), 1);
    assert.equal((await emailRows(stack, [duplicateId])).get(duplicateId), 1);
    assert.equal(await confirmedCount(stack, [duplicated]), 1);

    // Killed after the e-mail went out and before the order was confirmed and the message acknowledged.
    await setFault(fulfillment, { name: 'slow_queries', ms: 3000 });
    const crashId = eventId();
    await publishEvents(channel, [{ content: orderEvent(crashed), messageId: crashId }]);
    await waitFor('the e-mail sent', () => (logsOf(fulfillment, SENT, crashId) === 1 ? true : undefined), 15_000, 20);
    await fulfillment.stop('SIGKILL');
    assert.equal(await confirmedCount(stack, [crashed]), 0);

    const restarted = await stack.startService('fulfillment');
    await waitFor('the redelivered order confirmed', async () => ((await confirmedCount(stack, [crashed])) === 1 ? true : undefined), 30_000, 100);
    assert.equal(logsOf(restarted, SENT, crashId), 0, 'the e-mail was sent again after the redelivery');
    assert.equal(logsOf(restarted, ALREADY_SENT, crashId), 1);
    assert.equal((await emailRows(stack, [crashId])).get(crashId), 1);
  });

  it('on SIGTERM stops consuming, finishes the messages in hand, then exits 0', async () => {
    const fulfillment = stack.service('fulfillment');
    const ids = await insertOrders(stack, 10);
    const inHand = events(ids.slice(0, 5));
    const later = events(ids.slice(5));
    await setFault(fulfillment, { name: 'slow_queries', ms: 1000 });
    await publishEvents(channel, inHand);
    await waitFor('the events delivered', async () => ((await queueDepth(channel, queues.main)) === 0 ? true : undefined), 10_000, 50);
    const exited = fulfillment.stop('SIGTERM');
    await waitFor('the consumer cancelled', async () => ((await channel.checkQueue(queues.main)).consumerCount === 0 ? true : undefined), 10_000, 20);
    assert.equal(fulfillment.running, true, 'exited before it finished the messages in hand');
    assert.equal(await confirmedCount(stack, ids.slice(0, 5)), 0, 'the messages in hand were done before the consumer was cancelled');
    // Published after the consumer was cancelled: left in the queue for the next instance.
    await publishEvents(channel, later);
    assert.equal(await exited, 0);
    assert.equal(await confirmedCount(stack, ids.slice(0, 5)), 5, 'an order in hand was not confirmed before exit');
    assert.equal(logsOf(fulfillment, 'shutdown hook failed'), 0);
    assert.equal(await queueDepth(channel, queues.main), 5, 'in-hand messages were not acknowledged, or new ones were taken');

    const restarted = await stack.startService('fulfillment');
    await waitFor('the rest confirmed by the next instance', async () => ((await confirmedCount(stack, ids)) === ids.length ? true : undefined), 30_000, 100);
    for (const { messageId } of inHand) assert.equal(logsOf(restarted, SENT, messageId), 0, 'a message acknowledged before exit came back');
  });

  it('answers /metrics within a second or two while the broker is frozen (connection open, nothing answered)', async () => {
    const fulfillment = stack.service('fulfillment');
    const depth = /^messaging_queue_messages\{[^}]*\} /m;
    await waitFor('the queue depth while the broker is up', async () => (depth.test(await (await fulfillment.fetch('/metrics')).text()) ? true : undefined), 30_000, 200);
    stack.rabbitmq.freeze(true);
    try {
      const started = performance.now();
      const res = await fulfillment.fetch('/metrics', { signal: AbortSignal.timeout(5_000) });
      const body = await res.text();
      const seconds = (performance.now() - started) / 1000;
      assert.equal(res.status, 200);
      assert.ok(seconds < 2.5, `the scrape took ${seconds.toFixed(1)} s`);
      assert.match(body, /^process_cpu_seconds_total\{/m, 'the service\'s own metrics are missing');
      assert.doesNotMatch(body, depth, 'a queue depth was reported although the broker answered nothing');
    } finally {
      stack.rabbitmq.freeze(false);
    }
    await waitFor('the queue depth back', async () => (depth.test(await (await fulfillment.fetch('/metrics')).text()) ? true : undefined), 30_000, 200);
  });

  // Last: it restarts the broker under fulfillment.
  it('after a broker restart, acks nothing on the new channel and processes every redelivered event once', async () => {
    const fulfillment = stack.service('fulfillment');
    const ids = await insertOrders(stack, 10);
    const batch = events(ids);
    // Held across the restart by the consumer: once released, their acks would name delivery tags of the closed
    // channel, on the new one (where the same numbers belong to the redelivered copies, or to nothing).
    await setFault(fulfillment, { name: 'consumer_paused' });
    await publishEvents(channel, batch);
    await waitFor('the events delivered', async () => ((await queueDepth(channel, queues.main)) === 0 ? true : undefined), 10_000, 50);
    await connection.close().catch(() => undefined);
    await stack.rabbitmq.stop();
    await stack.rabbitmq.start();
    ({ connection, channel } = await brokerChannel(stack));
    await waitFor('fulfillment reconnected', async () => {
      const ready = (await (await fulfillment.fetch('/readyz')).json()) as { checks?: Record<string, { status: string }> };
      return ready.checks?.rabbitmq?.status === 'up' ? true : undefined;
    }, 30_000, 200);
    await waitFor('the events delivered again', async () => ((await queueDepth(channel, queues.main)) === 0 ? true : undefined), 10_000, 50);
    await clearFault(fulfillment, 'consumer_paused');
    await waitFor('every order confirmed', async () => ((await confirmedCount(stack, ids)) === ids.length ? true : undefined), 60_000, 200);
    await sleep(1_000);
    // A wrong-channel ack either acknowledges another message or closes the new channel (PRECONDITION_FAILED),
    // and its consumer with it.
    const main = await channel.checkQueue(queues.main);
    assert.equal(main.consumerCount, 1, 'the consumer did not survive the reconnect');
    assert.equal(main.messageCount, 0);
    assert.ok(!fulfillment.rawOutput.some((l) => /PRECONDITION_FAILED|unknown delivery tag/i.test(l)), 'an ack went to the wrong channel');
    assert.equal(fulfillment.running, true);
    const emails = await emailRows(stack, batch.map((e) => e.messageId));
    assert.deepEqual(batch.filter((e) => emails.get(e.messageId) !== 1), []);
    assert.deepEqual(batch.filter((e) => logsOf(fulfillment, SENT, e.messageId) !== 1), [], 'an e-mail was not sent exactly once');
    assert.equal(await queueDepth(channel, queues.dlq), 0);

    // Still consuming on the new channel.
    const [next] = await insertOrders(stack, 1);
    assert.ok(next !== undefined);
    await publishEvents(channel, events([next]));
    await waitFor('an order placed after the reconnect confirmed', async () => ((await confirmedCount(stack, [next])) === 1 ? true : undefined), 15_000, 100);
  });
});
