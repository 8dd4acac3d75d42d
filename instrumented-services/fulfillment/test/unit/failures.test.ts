import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orderCreatedEvent } from '@lookout/shop-contracts';
import { backoffDelay, classifyFailure } from '../../src/failures.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('classifyFailure', () => {
  it('calls a message that is not JSON, or not an order event, invalid', () => {
    assert.throws(() => JSON.parse('{"orderId": 1'), (err) => classifyFailure(err) === 'invalid');
    const parsed = orderCreatedEvent.safeParse({ orderId: 'x' });
    assert.equal(parsed.success, false);
    assert.equal(classifyFailure(parsed.error), 'invalid');
  });

  it('calls Postgres down, restarting, out of connections or too slow a dependency failure', () => {
    for (const err of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('sorry, too many clients already', '53300'),
      withCode('canceling statement due to statement timeout', '57014'),
      withCode('deadlock detected', '40P01'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ]) {
      assert.equal(classifyFailure(err), 'dependency', err.message);
    }
  });

  it('calls anything else a processing failure: retried a bounded number of times', () => {
    assert.equal(classifyFailure(withCode('relation "orders" does not exist', '42P01')), 'processing');
    assert.equal(classifyFailure(new TypeError('cannot read properties of undefined')), 'processing');
    assert.equal(classifyFailure('a string'), 'processing');
  });
});

describe('backoffDelay', () => {
  it('doubles from the base and stops at the cap', () => {
    const backoff = { baseMs: 200, maxMs: 30_000 };
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(backoff, n)), [200, 400, 800, 1600]);
    assert.equal(backoffDelay(backoff, 8), 25_600);
    assert.equal(backoffDelay(backoff, 9), 30_000);
    assert.equal(backoffDelay(backoff, 10_000), 30_000);
    assert.equal(backoffDelay(backoff, 0), 200);
  });
});
