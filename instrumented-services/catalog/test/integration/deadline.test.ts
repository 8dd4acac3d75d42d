import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REQUEST_TIMEOUT_HEADER } from '@lookout/http-kit';
import { metrics } from '@lookout/telemetry/contract';
import { ADMIN_TOKEN, scrape, sumOf, type JsonAnswer, type ServiceProcess, type ShopStack } from '@lookout/testkit';
import { cacheResults, catalogStack, dbQueries, request } from './helpers.js';

const admin = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` };
const DEADLINE_TYPE = 'urn:lookout:problem:deadline-exceeded';

async function slowQueries(service: ServiceProcess, ms: number): Promise<void> {
  const r = await service.fetch('/admin/faults', { method: 'POST', headers: admin, body: JSON.stringify({ name: 'slow_queries', ms, durationSeconds: 60 }) });
  assert.equal(r.status, 201, await r.text());
}

async function clearSlowQueries(service: ServiceProcess): Promise<void> {
  await service.fetch('/admin/faults/slow_queries', { method: 'DELETE', headers: { authorization: admin.authorization } });
}

/** A GET with a deadline header (or none), and how long it took. */
async function timedGet(service: ServiceProcess, path: string, timeoutMs?: number): Promise<JsonAnswer & { ms: number }> {
  const started = performance.now();
  const r = await request(service, path, { headers: timeoutMs === undefined ? {} : { [REQUEST_TIMEOUT_HEADER]: String(timeoutMs) } });
  return { ...r, ms: performance.now() - started };
}

function assertDeadline(r: JsonAnswer, stage: string): void {
  assert.equal(r.status, 504, JSON.stringify(r.body));
  assert.match(r.contentType, /^application\/problem\+json/);
  assert.equal(r.body.type, DEADLINE_TYPE);
  assert.equal(r.body.stage, stage);
  assert.equal(r.headers.get('retry-after'), '1');
}

const usedConnections = async (service: ServiceProcess) =>
  sumOf(await scrape(service.baseUrl), metrics.dbClientConnectionCount.name, { db_client_connection_state: 'used' });

// One connection in the pool: a request that kept holding it after its deadline would delay the next one visibly.
describe('catalog honours the request deadline (request-timeout-ms)', () => {
  let stack: ShopStack;
  let catalog: ServiceProcess;

  before(async () => {
    ({ stack, catalog } = await catalogStack({ PG_POOL_MAX: '1' }));
  });
  after(async () => {
    await stack.stop();
  });

  it('answers a slow lookup with the deadline problem at the deadline, and frees the pooled connection at once', async () => {
    await slowQueries(catalog, 1_500);
    let slow: JsonAnswer & { ms: number };
    try {
      slow = await timedGet(catalog, '/products/101', 300);
    } finally {
      await clearSlowQueries(catalog);
    }
    assertDeadline(slow, 'postgres-query');
    assert.equal(slow.body.budgetMs, 300);
    assert.ok(slow.ms < 800, `answered after ${slow.ms} ms with a 300 ms budget`);
    assert.equal(await usedConnections(catalog), 0, 'the connection is still held after the deadline answer');
    // The only connection is free: the next request does not wait out the rest of the 1.5 s fault.
    const next = await timedGet(catalog, '/products/102', 1_000);
    assert.equal(next.status, 200);
    assert.ok(next.ms < 400, `the next request took ${next.ms} ms`);
  });

  it('answers a request already out of time at once, without touching Redis or Postgres', async () => {
    const [queriesBefore, cacheBefore] = await Promise.all([dbQueries(catalog, 'products.get_by_id'), cacheResults(catalog)]);
    const r = await timedGet(catalog, '/products/103', 0);
    assertDeadline(r, 'arrival');
    assert.ok(r.ms < 200, `took ${r.ms} ms`);
    assert.equal(await dbQueries(catalog, 'products.get_by_id'), queriesBefore);
    assert.deepEqual(await cacheResults(catalog), cacheBefore);
  });

  it('ignores a garbage or huge header: the request runs on the service default', async () => {
    for (const value of ['soon', '-1', '1e9', '99999999999']) {
      const r = await request(catalog, '/products/104', { headers: { [REQUEST_TIMEOUT_HEADER]: value } });
      assert.equal(r.status, 200, `${value}: ${JSON.stringify(r.body)}`);
    }
  });

  it('stops a request waiting for a load in flight in this instance at its own deadline', async () => {
    await slowQueries(catalog, 1_500);
    try {
      const holder = timedGet(catalog, '/products/105');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const waiter = await timedGet(catalog, '/products/105', 300);
      assertDeadline(waiter, 'cache-wait');
      assert.ok(waiter.ms < 800, `the waiter answered after ${waiter.ms} ms`);
      const loaded = await holder;
      assert.equal(loaded.status, 200, 'the load the waiter shared was cut short by the waiter');
      assert.equal(loaded.body.id, 105);
    } finally {
      await clearSlowQueries(catalog);
    }
  });

  it('stops waiting for another instance holding the load lock at the deadline, without loading itself', async () => {
    const second = await stack.startService('catalog', { SEED_PRODUCTS: '0' });
    try {
      await slowQueries(catalog, 1_500);
      const holder = timedGet(catalog, '/products/106');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const loadsBefore = await dbQueries(second, 'products.get_by_id');
      const waiter = await timedGet(second, '/products/106', 300);
      assertDeadline(waiter, 'cache-wait');
      assert.ok(waiter.ms < 800, `the waiter answered after ${waiter.ms} ms`);
      assert.equal(await dbQueries(second, 'products.get_by_id'), loadsBefore, 'the waiter loaded from Postgres after its deadline');
      assert.equal((await holder).status, 200);
    } finally {
      await clearSlowQueries(catalog);
      await second.stop();
    }
  });
});
