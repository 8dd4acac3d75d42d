import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher } from '../../src/batcher.js';

describe('Batcher', () => {
  it('writes a full batch at once, and the rest after the interval', async () => {
    const writes: number[][] = [];
    const batcher = new Batcher<number>((items) => {
      writes.push(items);
      return Promise.resolve();
    }, 3, 50);
    const started = Date.now();
    await Promise.all([1, 2, 3, 4].map((n) => batcher.add(n)));
    assert.deepEqual(writes, [[1, 2, 3], [4]]);
    assert.ok(Date.now() - started >= 45, 'the partial batch did not wait for the interval');
  });

  it('rejects every item of a batch whose write failed, and keeps going', async () => {
    let fail = true;
    const batcher = new Batcher<string>(() => (fail ? Promise.reject(new Error('db down')) : Promise.resolve()), 2, 10);
    const results = await Promise.allSettled([batcher.add('a'), batcher.add('b')]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    fail = false;
    await batcher.add('c');
  });

  it('writes batches one after another, in order', async () => {
    const order: string[] = [];
    const batcher = new Batcher<string>(async (items) => {
      order.push(`start ${items.join()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push(`end ${items.join()}`);
    }, 1, 10);
    await Promise.all([batcher.add('x'), batcher.add('y')]);
    assert.deepEqual(order, ['start x', 'end x', 'start y', 'end y']);
  });
});
