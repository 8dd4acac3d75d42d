import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, waitFor, type ServiceProcess, type ShopStack } from '@lookout/testkit';
import pg from 'pg';
import { cacheResults, catalogStack, dbQueries, editable, json, request } from './helpers.js';

describe('catalog when its dependencies fail', () => {
  let stack: ShopStack;
  let catalog: ServiceProcess;

  before(async () => {
    ({ stack, catalog } = await catalogStack());
  });
  after(async () => {
    await stack.stop();
  });

  it('serves reads from Postgres while Redis is down, reports degraded, and recovers', async () => {
    assert.equal((await request(catalog, '/readyz')).body.status, 'ready');
    await stack.redis.stop();
    const before = await cacheResults(catalog);
    for (const id of [11, 12, 13]) {
      const r = await request(catalog, `/products/${id}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.id, id);
    }
    assert.equal((await cacheResults(catalog)).error - before.error, 3);
    const ready = await request(catalog, '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'degraded');
    assert.equal((ready.body.checks as Record<string, { status: string }>).redis?.status, 'down');

    await stack.redis.start();
    await waitFor('readiness to return to ready', async () =>
      (await request(catalog, '/readyz')).body.status === 'ready' ? true : undefined,
    );
    const hitsBefore = (await cacheResults(catalog)).hit;
    await request(catalog, '/products/11');
    await request(catalog, '/products/11');
    assert.equal((await cacheResults(catalog)).hit - hitsBefore, 1, 'the cache is not used again after Redis returned');
  });

  it('answers 503 problem+json while Postgres is down, and recovers by itself', async () => {
    await stack.postgres.stop();
    try {
      for (const path of ['/products/2001', '/products?q=lamp']) {
        const r = await request(catalog, path);
        assert.equal(r.status, 503, `${path}: ${JSON.stringify(r.body)}`);
        assert.match(r.contentType, /^application\/problem\+json/);
        assert.ok(Number(r.headers.get('retry-after')) > 0);
      }
      const write = await request(catalog, '/products', json('POST', { sku: 'DOWN-1', name: 'x', category: 'home', priceCents: 1 }));
      assert.equal(write.status, 503);
      const ready = await request(catalog, '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.status, 'unavailable');
    } finally {
      await stack.postgres.start();
    }
    await waitFor('reads to succeed again', async () =>
      (await request(catalog, '/products/2001')).status === 200 ? true : undefined,
    );
    assert.equal((await request(catalog, '/readyz')).body.status, 'ready');
    assert.equal(catalog.running, true);
  });

  it('loads a key once across two instances while a slow database makes the load outlast the lock TTL', async () => {
    const second = await stack.startService('catalog', { SEED_PRODUCTS: '0' });
    try {
      // Only the first instance's queries are slow: longer than CACHE_LOCK_TTL_MS (2000), within the waiters' bound.
      const fault = await catalog.fetch('/admin/faults', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ name: 'slow_queries', ms: 3_000, durationSeconds: 60 }),
      });
      assert.equal(fault.status, 201, await fault.text());
      const loadsBefore = await dbQueries(second, 'products.get_by_id');
      const first = request(catalog, '/products/77');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const fromSecond = await request(second, '/products/77');
      const fromFirst = await first;
      assert.equal(fromFirst.status, 200);
      assert.equal(fromSecond.status, 200);
      assert.deepEqual(fromSecond.body, fromFirst.body);
      assert.equal(await dbQueries(second, 'products.get_by_id'), loadsBefore, 'the second instance loaded the key as well');
    } finally {
      await catalog.fetch('/admin/faults/slow_queries', { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      await second.stop();
    }
  });

  it('drains an in-flight request on SIGTERM, then exits 0', async () => {
    const service = await stack.startService('catalog', { SEED_PRODUCTS: '0' });
    // Hold a row lock so that the service's UPDATE is in flight when the signal arrives.
    const blocker = new pg.Client({ connectionString: stack.postgres.url('catalog') });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM products WHERE id = 31 FOR UPDATE');
    const current = (await request(service, '/products/31')).body;
    const fields = editable(current);
    const inFlight = request(service, '/products/31', json('PUT', { ...fields, stock: 99 }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exited = service.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await blocker.query('COMMIT');
    await blocker.end();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(response.body.stock, 99);
    assert.equal(await exited, 0);
    const messages = service.logs.map((l) => l.message);
    assert.ok(messages.includes('shutting down') && messages.includes('shutdown complete'), messages.join(', '));
  });

  it('refuses to start with a bad setting, naming it', async () => {
    await assert.rejects(stack.startService('catalog', { PG_POOL_MAX: 'lots' }), /PG_POOL_MAX/);
  });
});
