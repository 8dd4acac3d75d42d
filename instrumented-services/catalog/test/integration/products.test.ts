import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceProcess, ShopStack } from '@lookout/testkit';
import { cacheResults, catalogStack, dbQueries, editable, json, productCount, request } from './helpers.js';

const newProduct = (sku: string) => ({
  sku,
  name: 'Integration Test Kettle',
  description: 'made by the test suite',
  category: 'home',
  priceCents: 2599,
  currency: 'EUR',
  stock: 12,
});

describe('catalog on real Postgres and Redis', () => {
  let stack: ShopStack;
  let catalog: ServiceProcess;

  before(async () => {
    ({ stack, catalog } = await catalogStack());
  });
  after(async () => {
    await stack.stop();
  });

  it('seeds 10,000 products on first start', async () => {
    assert.equal(await productCount(stack), 10_000);
  });

  it('creates, reads, replaces and searches products', async () => {
    const created = await request(catalog, '/products', json('POST', newProduct('IT-CRUD-1')));
    assert.equal(created.status, 201);
    const id = created.body.id as number;
    assert.equal(created.headers.get('location'), `/products/${id}`);
    assert.equal(created.body.currency, 'EUR');

    const read = await request(catalog, `/products/${id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, created.body);

    const replaced = await request(catalog, `/products/${id}`, json('PUT', { ...newProduct('IT-CRUD-1'), name: 'Renamed Kettle', stock: 0 }));
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.name, 'Renamed Kettle');
    assert.equal(replaced.body.stock, 0);

    const found = await request(catalog, '/products?q=renamed%20kettle');
    assert.equal(found.status, 200);
    assert.deepEqual((found.body.items as { id: number }[]).map((p) => p.id), [id]);
  });

  it('paginates search results with a bounded limit', async () => {
    const page1 = await request(catalog, '/products?q=lamp&limit=5&page=1');
    const page2 = await request(catalog, '/products?q=lamp&limit=5&page=2');
    const ids1 = (page1.body.items as { id: number; name: string }[]).map((p) => p.id);
    const ids2 = (page2.body.items as { id: number; name: string }[]).map((p) => p.id);
    assert.equal(ids1.length, 5);
    assert.equal(ids2.length, 5);
    assert.equal(page1.body.hasMore, true);
    assert.ok(Math.max(...ids1) < Math.min(...ids2), 'pages overlap or are out of order');
    for (const p of page1.body.items as { name: string }[]) assert.match(p.name, /lamp/i);

    const category = await request(catalog, '/products?category=toys&limit=100');
    const items = category.body.items as { category: string }[];
    assert.equal(items.length, 100);
    assert.ok(items.every((p) => p.category === 'toys'));
  });

  it('answers a miss from Postgres, then the same read from Redis', async () => {
    const before = { cache: await cacheResults(catalog), db: await dbQueries(catalog, 'products.get_by_id') };
    assert.equal((await request(catalog, '/products/4242')).status, 200);
    assert.equal((await request(catalog, '/products/4242')).status, 200);
    const after = { cache: await cacheResults(catalog), db: await dbQueries(catalog, 'products.get_by_id') };
    assert.equal(after.cache.miss - before.cache.miss, 1);
    assert.equal(after.cache.hit - before.cache.hit, 1);
    assert.equal(after.db - before.db, 1);
  });

  it('remembers "not found" briefly, and forgets it when the product is created', async () => {
    const nextId = ((await stack.database('catalog').query<{ id: number }>('SELECT max(id)::int + 1 AS id FROM products')).rows[0]?.id ?? 0);
    const db0 = await dbQueries(catalog, 'products.get_by_id');
    assert.equal((await request(catalog, `/products/${nextId}`)).status, 404);
    assert.equal((await request(catalog, `/products/${nextId}`)).status, 404);
    assert.equal((await dbQueries(catalog, 'products.get_by_id')) - db0, 1, 'the second 404 reached the database');
    const created = await request(catalog, '/products', json('POST', newProduct('IT-NEG-1')));
    assert.equal(created.body.id, nextId);
    assert.equal((await request(catalog, `/products/${nextId}`)).status, 200);
  });

  it('invalidates the cached product on update', async () => {
    const first = await request(catalog, '/products/77');
    assert.equal((await request(catalog, '/products/77')).body.name, first.body.name);
    const fields = editable(first.body);
    const updated = await request(catalog, '/products/77', json('PUT', { ...fields, name: 'Freshly Renamed', priceCents: 1 }));
    assert.equal(updated.status, 200);
    const reread = await request(catalog, '/products/77');
    assert.equal(reread.body.name, 'Freshly Renamed');
    assert.equal(reread.body.priceCents, 1);
  });

  it('answers 100 concurrent misses for one product with exactly one database query', async () => {
    const db0 = await dbQueries(catalog, 'products.get_by_id');
    const responses = await Promise.all(Array.from({ length: 100 }, () => request(catalog, '/products/9001')));
    assert.ok(responses.every((r) => r.status === 200 && r.body.id === 9001));
    assert.equal((await dbQueries(catalog, 'products.get_by_id')) - db0, 1);
  });

  it('keeps that to one query across two instances, through the Redis load lock', async () => {
    const second = await stack.startService('catalog', { SEED_PRODUCTS: '0' });
    const [a0, b0] = [await dbQueries(catalog, 'products.get_by_id'), await dbQueries(second, 'products.get_by_id')];
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => request(i % 2 === 0 ? catalog : second, '/products/9002')),
    );
    assert.ok(responses.every((r) => r.status === 200 && r.body.id === 9002));
    const queries =
      (await dbQueries(catalog, 'products.get_by_id')) - a0 + ((await dbQueries(second, 'products.get_by_id')) - b0);
    assert.equal(queries, 1);
    assert.equal(await second.stop(), 0);
  });

  it('uses the indexes for lookups and searches', async () => {
    const plan = async (sql: string, params: unknown[]) =>
      (await stack.database('catalog').query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const byId = await plan('SELECT * FROM products WHERE id = $1', [42]);
    assert.match(byId, /Index Scan using products_pkey/);
    // A selective term goes through the trigram index; for a common one (a seeded noun matches ~3% of rows) the
    // planner rightly walks the primary key in id order and stops after one page instead.
    const byName = await plan('SELECT * FROM products WHERE name ILIKE $1 ORDER BY id LIMIT 21 OFFSET 0', ['%integration%']);
    assert.match(byName, /Bitmap Index Scan on products_name_trgm_idx/);
    const common = await plan('SELECT * FROM products WHERE name ILIKE $1 ORDER BY id LIMIT 21 OFFSET 0', ['%kettle%']);
    assert.match(common, /Index Scan using products_pkey|products_name_trgm_idx/);
    // Deep into a category (10% of rows) the composite index beats filtering the primary-key walk.
    const byCategory = await plan('SELECT * FROM products WHERE category = $1 ORDER BY id LIMIT 21 OFFSET 900', ['toys']);
    assert.match(byCategory, /Index Scan (using|on) products_category_id_idx/);
    for (const [name, text] of Object.entries({ byId, byName, common, byCategory })) {
      process.stdout.write(`# EXPLAIN ${name}:\n#   ${text.replaceAll('\n', '\n#   ')}\n`);
    }
  });

  describe('bad input', () => {
    const cases: [string, string, RequestInit?][] = [
      ['non-numeric id', '/products/abc'],
      ['negative id', '/products/-1'],
      ['zero id', '/products/0'],
      ['fractional id', '/products/1.5'],
      ['id beyond range', '/products/99999999999999999999'],
      ['SQL in id', "/products/1%20OR%201=1"],
      ['SQL in id, quoted', "/products/1';DROP%20TABLE%20products;--"],
      ['limit 1e9', '/products?limit=1e9'],
      ['limit 1000000000', '/products?limit=1000000000'],
      ['limit 0', '/products?limit=0'],
      ['page 0', '/products?page=0'],
      ['page past the bound', '/products?page=501'],
      ['non-numeric page', '/products?page=two'],
      ['empty q', '/products?q='],
      ['overlong q', `/products?q=${'x'.repeat(101)}`],
      ['q given twice', '/products?q=a&q=b'],
      ['SQL in category', "/products?category=toys'%20OR%20'1'='1"],
      ['invalid UTF-8 in q', '/products?q=%FF%FE'],
      ['NUL in q', '/products?q=a%00b'],
      ['UTF-8 encoded surrogate in q', '/products?q=%ED%A0%80'],
      ['invalid UTF-8 in category', '/products?category=%FF'],
      ['NUL in category', '/products?category=toys%00'],
      ['malformed escape in id', '/products/%FF'],
      ['stray % in id', '/products/%'],
      ['NUL in name', '/products', json('POST', { ...newProduct('X-NUL'), name: 'Kettle\u0000' })],
      ['lone surrogate in description', '/products', json('POST', { ...newProduct('X-SUR'), description: 'half \ud83c' })],
      ['PUT with NUL in name', '/products/5', json('PUT', { ...newProduct('SKU-000005'), name: 'a\u0000b' })],
      ['malformed JSON', '/products', json('POST', '{"sku": "X-1", ')],
      ['oversized body', '/products', json('POST', { ...newProduct('X-BIG'), description: 'x'.repeat(20_000) })],
      ['body not JSON', '/products', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'sku=1' }],
      ['JSON array body', '/products', json('POST', '[]')],
      ['missing fields', '/products', json('POST', { sku: 'X-2' })],
      ['unknown field', '/products', json('POST', { ...newProduct('X-3'), admin: true })],
      ['negative price', '/products', json('POST', { ...newProduct('X-4'), priceCents: -5 })],
      ['price as string', '/products', json('POST', { ...newProduct('X-5'), priceCents: '100' })],
      ['SQL in sku', '/products', json('POST', newProduct("X'; DROP TABLE products;--"))],
      ['duplicate sku', '/products', json('POST', newProduct('SKU-000001'))],
      ['PUT with bad id', '/products/abc', json('PUT', newProduct('X-6'))],
      ['PUT unknown product', '/products/999999999', json('PUT', newProduct('X-7'))],
      ['PUT taking another SKU', '/products/5', json('PUT', newProduct('SKU-000006'))],
      ['unknown route', '/admin'],
      ['unsupported method', '/products/1', { method: 'DELETE' }],
    ];

    it('answers every bad request with 4xx problem+json, and changes nothing', async () => {
      const countBefore = await productCount(stack);
      const product5 = (await stack.database('catalog').query('SELECT * FROM products WHERE id = 5')).rows[0] as unknown;
      const failures: string[] = [];
      for (const [name, path, init] of cases) {
        const r = await request(catalog, path, init);
        const ok =
          r.status >= 400 && r.status < 500 && r.contentType.startsWith('application/problem+json') && r.body.status === r.status;
        if (!ok) failures.push(`${name}: ${r.status} ${r.contentType} ${JSON.stringify(r.body).slice(0, 200)}`);
      }
      assert.deepEqual(failures, []);
      assert.equal(await productCount(stack), countBefore);
      assert.deepEqual((await stack.database('catalog').query('SELECT * FROM products WHERE id = 5')).rows[0], product5);
    });

    it('names the parameter holding a NUL or invalid UTF-8, before anything reaches Postgres', async () => {
      const queries = await dbQueries(catalog, 'products.search');
      for (const [query, field] of [['q=%FF%FE', 'q'], ['q=a%00b', 'q'], ['category=%FF', 'category'], ['category=toys%00', 'category']]) {
        const r = await request(catalog, `/products?${query}`);
        assert.equal(r.status, 400, query);
        assert.deepEqual((r.body.errors as { in: string; field: string }[]).map((e) => `${e.in} ${e.field}`), [`query ${field}`], query);
      }
      assert.equal(await dbQueries(catalog, 'products.search'), queries);
      const accented = await request(catalog, `/products?q=${encodeURIComponent('café')}`);
      assert.equal(accented.status, 200);
    });

    it('treats SQL in a search term as text to look for', async () => {
      const r = await request(catalog, `/products?q=${encodeURIComponent("' OR 1=1 --")}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.items, []);
      const wildcard = await request(catalog, `/products?q=${encodeURIComponent('%')}`);
      assert.deepEqual(wildcard.body.items, [], 'a % in the term matched everything');
    });
  });
});
