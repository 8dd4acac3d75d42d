import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from 'amqplib';
import { attemptOf, copyProperties, headers, replaysOf } from '../../src/message.js';

function message(properties: Record<string, unknown>): Message {
  return {
    content: Buffer.from('{}'),
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q' },
    properties: {
      contentType: undefined,
      contentEncoding: undefined,
      headers: undefined,
      deliveryMode: undefined,
      priority: undefined,
      correlationId: undefined,
      replyTo: undefined,
      expiration: undefined,
      messageId: undefined,
      timestamp: undefined,
      type: undefined,
      userId: undefined,
      appId: undefined,
      clusterId: undefined,
      ...properties,
    },
  };
}

describe('message headers', () => {
  it('reads the attempt number, 1 when absent or not a positive integer', () => {
    assert.equal(attemptOf(message({})), 1);
    assert.equal(attemptOf(message({ headers: { [headers.attempt]: 3 } })), 3);
    assert.equal(attemptOf(message({ headers: { [headers.attempt]: '4' } })), 4);
    for (const junk of [0, -2, 1.5, 'x', null]) assert.equal(attemptOf(message({ headers: { [headers.attempt]: junk } })), 1);
    assert.equal(replaysOf(message({})), 0);
  });

  it('copies what identifies, dates and traces a message, sets and removes headers, and makes it persistent', () => {
    const original = message({
      messageId: 'outbox-7',
      timestamp: 1_700_000_000,
      contentType: 'application/json',
      type: 'order.created',
      expiration: '500',
      headers: { traceparent: '00-abc-def-01', [headers.attempt]: 3, [headers.lastError]: 'boom' },
    });
    const copy = copyProperties(original, { [headers.attempt]: undefined, [headers.lastError]: undefined, [headers.replays]: 1 });
    assert.deepEqual(copy, {
      persistent: true,
      messageId: 'outbox-7',
      timestamp: 1_700_000_000,
      contentType: 'application/json',
      type: 'order.created',
      headers: { traceparent: '00-abc-def-01', [headers.replays]: 1 },
    });
    // The original's headers are untouched (it may still be retried).
    assert.equal(original.properties.headers?.[headers.attempt], 3);
  });
});
