import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metrics, renderMetrics } from '@lookout/telemetry';
import { parseMetrics } from '@lookout/testkit';
import { OutboxMonitor, registerOutboxGauges, type OutboxState } from '../../src/outbox-metrics.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A read that answers only when the test says so. */
function controlledRead() {
  const pending: { resolve: (state: OutboxState) => void; reject: (err: Error) => void }[] = [];
  return {
    pending,
    read: () => new Promise<OutboxState>((resolve, reject) => pending.push({ resolve, reject })),
  };
}

describe('OutboxMonitor', () => {
  it('knows nothing before its first read, then the last state read', async () => {
    const { pending, read } = controlledRead();
    const monitor = new OutboxMonitor(read, { intervalMs: 1000 });
    assert.equal(monitor.current(), undefined);
    const refreshed = monitor.refresh();
    pending[0]?.resolve({ pending: 3, lagSeconds: 1.5 });
    await refreshed;
    assert.deepEqual(monitor.current(), { pending: 3, lagSeconds: 1.5 });
  });

  it('runs one read at a time: a refresh while one is in flight joins it', async () => {
    const { pending, read } = controlledRead();
    const monitor = new OutboxMonitor(read, { intervalMs: 1000 });
    const first = monitor.refresh();
    const second = monitor.refresh();
    assert.equal(pending.length, 1);
    pending[0]?.resolve({ pending: 1, lagSeconds: 0 });
    await Promise.all([first, second]);
    void monitor.refresh();
    assert.equal(pending.length, 2, 'no new read once the first one ended');
  });

  it('keeps the last state through failed reads until it is stale, then knows nothing', async () => {
    let now = 0;
    let fail = false;
    const monitor = new OutboxMonitor(
      () => (fail ? Promise.reject(new Error('connection refused')) : Promise.resolve({ pending: 2, lagSeconds: 4 })),
      { intervalMs: 100, now: () => now },
    );
    await monitor.refresh();
    fail = true;
    now = 250;
    await monitor.refresh();
    assert.deepEqual(monitor.current(), { pending: 2, lagSeconds: 4 }, 'dropped after one failed read');
    now = 301;
    assert.equal(monitor.current(), undefined, 'an old state outlived three intervals');
    fail = false;
    await monitor.refresh();
    assert.deepEqual(monitor.current(), { pending: 2, lagSeconds: 4 });
  });

  it('reads on its own timer once started, never two at a time, and stops', async () => {
    let reads = 0;
    let inFlight = 0;
    let overlapped = false;
    const monitor = new OutboxMonitor(async () => {
      reads++;
      inFlight++;
      overlapped ||= inFlight > 1;
      // Slower than the interval: a timer that did not wait for the read would start another.
      await sleep(30);
      inFlight--;
      return { pending: 0, lagSeconds: 0 };
    }, { intervalMs: 5 });
    monitor.start();
    await sleep(200);
    await monitor.stop();
    const stoppedAt = reads;
    assert.ok(stoppedAt >= 3, `only ${stoppedAt} reads`);
    assert.equal(overlapped, false);
    await sleep(60);
    assert.equal(reads, stoppedAt, 'read again after stop()');
  });

  it('exports the state as two gauges, absent rather than 0 while it is unknown', async () => {
    let now = 0;
    let fail = false;
    const monitor = new OutboxMonitor(
      () => (fail ? Promise.reject(new Error('connection refused')) : Promise.resolve({ pending: 7, lagSeconds: 12.5 })),
      { intervalMs: 100, now: () => now },
    );
    registerOutboxGauges(monitor);
    const names = new Set([metrics.outboxPendingMessages.name, metrics.outboxLag.name]);
    const exported = async () => parseMetrics(await renderMetrics()).filter((s) => names.has(s.name)).map((s) => `${s.name} ${s.value}`);

    assert.deepEqual(await exported(), [], 'exported before anything was read');
    await monitor.refresh();
    assert.deepEqual(await exported(), ['outbox_pending_messages 7', 'outbox_lag_seconds 12.5']);
    fail = true;
    now = 1000;
    await monitor.refresh();
    assert.deepEqual(await exported(), [], 'still exported when stale');
  });
});
