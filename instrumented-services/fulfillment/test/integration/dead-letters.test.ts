import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor, type ShopStack } from '@lookout/testkit';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import {
  brokerChannel,
  confirmedCount,
  emailRows,
  eventId,
  fulfillmentStack,
  insertOrders,
  orderEvent,
  outcomes,
  publishEvents,
  queueDepth,
  queues,
  replayDlq,
} from './helpers.js';

const MAX_ATTEMPTS = 3; // fulfillmentStack's setting

describe('fulfillment: poison messages, the dead-letter queue and its replay', () => {
  let stack: ShopStack;
  let connection: ChannelModel;
  let channel: ConfirmChannel;

  before(async () => {
    stack = await fulfillmentStack();
    ({ connection, channel } = await brokerChannel(stack));
  });
  after(async () => {
    await connection.close();
    await stack.stop();
  });

  it('dead-letters a malformed message after exactly one attempt, without retries', async () => {
    const fulfillment = stack.service('fulfillment');
    const before = await outcomes(fulfillment);
    const notJson = eventId();
    const notAnOrder = eventId();
    await publishEvents(channel, [
      { content: Buffer.from('{"orderId": "not a number"'), messageId: notJson },
      { content: Buffer.from(JSON.stringify({ orderId: -1, items: [] })), messageId: notAnOrder },
    ]);
    await waitFor('both messages in the dead-letter queue', async () => ((await queueDepth(channel, queues.dlq)) === 2 ? true : undefined), 30_000, 100);

    const after = await outcomes(fulfillment);
    assert.equal(after.deadLettered - before.deadLettered, 2);
    assert.equal(after.invalid - before.invalid, 2, 'each was attempted more than once');
    assert.equal(after.retried - before.retried, 0, 'a malformed message was retried');
    assert.equal(await queueDepth(channel, queues.retry), 0);
    const dead = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < 2; i++) {
      const msg = await channel.get(queues.dlq, { noAck: true });
      assert.ok(msg !== false);
      dead.set(String(msg.properties.messageId), msg.properties.headers ?? {});
    }
    for (const id of [notJson, notAnOrder]) {
      const headers = dead.get(id);
      assert.ok(headers !== undefined, `${id} missing from the dead-letter queue`);
      assert.equal(headers['x-lookout-attempt'], 2, 'the next attempt would have been the second');
      assert.equal(headers['x-lookout-failure'], 'invalid');
    }
    assert.match(String(dead.get(notJson)?.['x-lookout-last-error']), /JSON/);
  });

  it('replays the dead-letter queue: --dry-run moves nothing, --limit moves that many, the rest follow', async () => {
    assert.equal(await queueDepth(channel, queues.dlq), 0);
    const ids = await insertOrders(stack, 3);
    const messageIds = ids.map(() => eventId());
    const poisonId = eventId();
    // As fulfillment leaves them after their last attempt.
    const parked = [...ids.map((id, i) => ({ content: orderEvent(id), messageId: messageIds[i] ?? '' })), { content: Buffer.from('not json'), messageId: poisonId }];
    for (const { content, messageId } of parked) {
      channel.sendToQueue(queues.dlq, content, {
        persistent: true,
        contentType: 'application/json',
        messageId,
        headers: { 'x-lookout-attempt': 4, 'x-lookout-last-error': 'connection refused', 'x-lookout-failure': 'processing' },
      });
    }
    await channel.waitForConfirms();

    const dry = await replayDlq(stack, ['--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout.split('\n').filter((l) => l.startsWith('would move ')).length, 4, dry.stdout);
    assert.match(dry.stdout, /attempts=3 failure=processing last_error="connection refused"/);
    assert.match(dry.stdout, /none moved/);
    assert.equal(await queueDepth(channel, queues.dlq), 4, 'a dry run moved messages');
    assert.equal(await confirmedCount(stack, ids), 0);

    const two = await replayDlq(stack, ['--limit', '2']);
    assert.equal(two.code, 0, two.stderr);
    assert.match(two.stdout, /moved 2 message\(s\)/);
    await waitFor('the first two replayed orders confirmed', async () => ((await confirmedCount(stack, ids.slice(0, 2))) === 2 ? true : undefined), 30_000, 100);
    assert.equal(await queueDepth(channel, queues.dlq), 2);
    assert.equal(await confirmedCount(stack, ids.slice(2)), 0, '--limit 2 moved more than two');

    const rest = await replayDlq(stack, []);
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stdout, /moved 2 message\(s\)/);
    await waitFor('every replayed order confirmed', async () => ((await confirmedCount(stack, ids)) === 3 ? true : undefined), 30_000, 100);
    const emails = await emailRows(stack, messageIds);
    assert.deepEqual(messageIds.map((id) => emails.get(id)), [1, 1, 1]);

    // The poison message went round once more: one attempt (the count started again), back in the DLQ.
    await waitFor('the replayed poison message back in the dead-letter queue', async () => ((await queueDepth(channel, queues.dlq)) === 1 ? true : undefined), 30_000, 100);
    const back = await channel.get(queues.dlq, { noAck: true });
    assert.ok(back !== false);
    assert.equal(back.properties.messageId, poisonId);
    assert.equal(back.properties.headers?.['x-lookout-attempt'], 2);
    assert.equal(back.properties.headers['x-lookout-replays'], 1);
    assert.equal(back.properties.headers['x-lookout-failure'], 'invalid');
  });

  it('retries any other failure MAX_ATTEMPTS times, then dead-letters it; fixed, the replay recovers it', async () => {
    assert.equal(await queueDepth(channel, queues.dlq), 0);
    const fulfillment = stack.service('fulfillment');
    const before = await outcomes(fulfillment);
    const ids = await insertOrders(stack, 2);
    const parked = ids.map((id) => ({ content: orderEvent(id), messageId: eventId() }));
    const db = stack.database('orders');
    // A failure that is not the database being unavailable: a table missing (a bad deployment, say).
    await db.query('ALTER TABLE fulfillment_emails RENAME TO fulfillment_emails_away');
    try {
      await publishEvents(channel, parked);
      await waitFor('both events in the dead-letter queue', async () => ((await queueDepth(channel, queues.dlq)) === 2 ? true : undefined), 30_000, 100);
    } finally {
      await db.query('ALTER TABLE fulfillment_emails_away RENAME TO fulfillment_emails');
    }
    const after = await outcomes(fulfillment);
    assert.equal(after.retried - before.retried, 2 * (MAX_ATTEMPTS - 1));
    assert.equal(after.deadLettered - before.deadLettered, 2);
    assert.equal(await confirmedCount(stack, ids), 0);

    const dry = await replayDlq(stack, ['--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout.match(new RegExp(`attempts=${MAX_ATTEMPTS} failure=processing last_error=".*does not exist`, 'g'))?.length, 2, dry.stdout);

    const replayed = await replayDlq(stack, []);
    assert.equal(replayed.code, 0, replayed.stderr);
    await waitFor('the replayed orders confirmed', async () => ((await confirmedCount(stack, ids)) === 2 ? true : undefined), 30_000, 100);
    assert.equal(await queueDepth(channel, queues.dlq), 0);
    const emails = await emailRows(stack, parked.map((p) => p.messageId));
    assert.deepEqual(parked.map((p) => emails.get(p.messageId)), [1, 1]);
  });

  it('refuses bad arguments with status 2 and moves nothing', async () => {
    for (const args of [['--limit', '0'], ['--limit', 'x'], ['--bogus']]) {
      const r = await replayDlq(stack, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /usage: replay-dlq/);
    }
  });
});
