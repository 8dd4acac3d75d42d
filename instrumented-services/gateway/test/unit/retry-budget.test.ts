import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget } from '../../src/retry-budget.js';

describe('retry budget', () => {
  const budget = (clock: { ms: number }) => new RetryBudget({ ratio: 0.1, minPerSecond: 1, windowSeconds: 10, now: () => clock.ms });
  const retriesGranted = (b: RetryBudget, tries: number) => Array.from({ length: tries }, () => b.tryRetry()).filter(Boolean).length;

  it('grants the floor to a quiet upstream, and no more', () => {
    const b = budget({ ms: 0 });
    assert.equal(retriesGranted(b, 50), 10);
  });

  it('grants a tenth of the recent requests on top of the floor', () => {
    const b = budget({ ms: 0 });
    for (let i = 0; i < 1000; i++) b.recordRequest();
    assert.equal(retriesGranted(b, 500), 110);
  });

  it('forgets requests and retries older than the window', () => {
    const clock = { ms: 5_000 };
    const b = budget(clock);
    for (let i = 0; i < 1000; i++) b.recordRequest();
    assert.equal(retriesGranted(b, 500), 110);
    clock.ms += 9_000;
    assert.equal(retriesGranted(b, 10), 0, 'still inside the window');
    clock.ms += 1_000;
    assert.equal(retriesGranted(b, 500), 10, 'the requests left the window with the retries');
    clock.ms += 60_000;
    for (let i = 0; i < 100; i++) b.recordRequest();
    assert.equal(retriesGranted(b, 500), 20);
  });

  it('survives a clock stepping back', () => {
    const clock = { ms: 100_000 };
    const b = budget(clock);
    b.recordRequest();
    clock.ms = 50_000;
    assert.equal(retriesGranted(b, 50), 10);
  });
});
