import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom, Zipf } from '@lookout/loadgen';
import { ceilingOver, firstTouches, rateForTtlHitRatio, ttlHitRatio, warmUpReads } from '../../bench/ceiling.js';

describe('cache ceiling of a read sequence', () => {
  it('misses only the first request of each id', () => {
    const first = firstTouches([3, 1, 3, 3, 2, 1, 4, 2]);
    assert.deepEqual([...first], [1, 1, 0, 0, 1, 0, 1, 0]);
    assert.deepEqual(ceilingOver(first, 0, 8), { hitRatio: 0.5, dbQueriesPerRequest: 0.5 });
    assert.deepEqual(ceilingOver(first, 4, 8), { hitRatio: 0.5, dbQueriesPerRequest: 0.5 });
    assert.deepEqual(ceilingOver(first, 2, 4), { hitRatio: 1, dbQueriesPerRequest: 0 });
  });

  it('finds the warm-up after which a window stays under the target, or none', () => {
    // ids 0..9 once each, then only id 0: windows of 4 starting at 8 or later have at most one first touch
    const first = firstTouches([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, 0, 0]);
    assert.equal(warmUpReads(first, 4, 0.25, 1), 9);
    assert.equal(warmUpReads(first, 4, 0.25, 2), 10);
    assert.equal(warmUpReads(first, 4, 0, 1), 10);
    assert.equal(warmUpReads(firstTouches([1, 2, 3, 4]), 2, 0.4, 1), null);
  });
});

describe('TTL hit-ratio model', () => {
  it('gives one key λT / (1 + λT)', () => {
    assert.equal(ttlHitRatio([1], 10, 3), 30 / 31);
    assert.equal(ttlHitRatio([0.5, 0.5], 2, 1), 0.5);
  });

  it('agrees with a simulated fill-time TTL cache under Poisson reads', () => {
    const random = seededRandom(7);
    const zipf = new Zipf(500, 1, random);
    const rate = 200;
    const ttl = 1;
    const expires = new Map<number, number>();
    let now = 0;
    let hits = 0;
    const reads = 400_000;
    for (let i = 0; i < reads; i++) {
      now += -Math.log(1 - random()) / rate;
      const id = zipf.next();
      if ((expires.get(id) ?? -1) > now) hits++;
      else expires.set(id, now + ttl);
    }
    const probabilities = Array.from({ length: 500 }, (_, i) => zipf.probability(i + 1));
    const model = ttlHitRatio(probabilities, rate, ttl);
    assert.ok(Math.abs(hits / reads - model) < 0.01, `simulated ${(hits / reads).toFixed(4)} vs model ${model.toFixed(4)}`);
  });

  it('finds the rate that reaches a target hit ratio', () => {
    const zipf = new Zipf(1000, 0.8);
    const probabilities = Array.from({ length: 1000 }, (_, i) => zipf.probability(i + 1));
    const rate = rateForTtlHitRatio(probabilities, 300, 0.95);
    assert.ok(ttlHitRatio(probabilities, rate, 300) >= 0.95);
    assert.ok(ttlHitRatio(probabilities, rate * 0.97, 300) < 0.95);
  });
});
