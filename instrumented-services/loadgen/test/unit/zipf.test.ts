import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom, Zipf } from '../../src/zipf.js';

describe('Zipf', () => {
  it('draws ranks with frequencies close to 1/k^s', () => {
    const zipf = new Zipf(1000, 1, seededRandom(42));
    const counts = new Map<number, number>();
    const draws = 200_000;
    for (let i = 0; i < draws; i++) {
      const k = zipf.next();
      assert.ok(k >= 1 && k <= 1000);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const k of [1, 2, 10]) {
      const expected = zipf.probability(k) * draws;
      const seen = counts.get(k) ?? 0;
      assert.ok(Math.abs(seen - expected) < expected * 0.05, `rank ${k}: ${seen} vs ${expected.toFixed(0)}`);
    }
    assert.ok((counts.get(1) ?? 0) > 2 * (counts.get(2) ?? 0) * 0.9, 'rank 1 is not about twice rank 2');
  });

  it('is uniform with s = 0 and replayable with a seed', () => {
    assert.ok(Math.abs(new Zipf(4, 0).probability(3) - 0.25) < 1e-12);
    const a = new Zipf(100, 1.2, seededRandom(7));
    const b = new Zipf(100, 1.2, seededRandom(7));
    assert.deepEqual(Array.from({ length: 50 }, () => a.next()), Array.from({ length: 50 }, () => b.next()));
  });

  it('rejects nonsense parameters', () => {
    assert.throws(() => new Zipf(0, 1), /n must be a positive integer/);
    assert.throws(() => new Zipf(10, -1), /s must be >= 0/);
  });
});
