import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@lookout/telemetry';
import { PostgresServer, RedisServer, sleep } from '@lookout/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { CacheAside } from '../../src/cache.js';
import { loadConfig } from '../../src/config.js';

interface Item {
  id: number;
  name: string;
}

/**
 * CacheAside itself, two "instances" (each with its own Redis connection, as two catalog processes have) sharing one
 * real Redis, loading from a real Postgres. In-process, so that a load can be held at a chosen point: the races
 * below are forced, not hoped for.
 */
describe('the cache-aside across instances, on real Redis and Postgres', () => {
  let redis: RedisServer;
  let postgres: PostgresServer;
  let db: pg.Pool;
  let admin: Redis;
  const connections: Redis[] = [];
  const logger = createLogger({ stream: new PassThrough().resume(), service: 'cache-test' });

  before(async () => {
    [redis, postgres] = await Promise.all([RedisServer.create(), PostgresServer.create()]);
    db = new pg.Pool({ connectionString: postgres.url(), max: 6 });
    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
    await db.query(`INSERT INTO items SELECT g, 'old-' || g FROM generate_series(1, 10) g`);
    admin = new Redis(redis.url);
    connections.push(admin);
  });
  after(async () => {
    await Promise.all(connections.map((c) => c.quit()));
    await db.end();
    await Promise.all([redis.destroy(), postgres.destroy()]);
  });

  /** One instance's cache: its own connection, the key space shared with every other instance of `name`. */
  function instance(name: string, lockTtlMs: number, loadTimeoutMs = 10_000): CacheAside<Item> {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    connections.push(connection);
    const options = { name, ttlSeconds: 300, negativeTtlSeconds: 30, lockTtlMs, loadTimeoutMs };
    return new CacheAside<Item>(connection, options, logger);
  }

  async function readItem(id: number, sleepSeconds = 0): Promise<Item | null> {
    const { rows } = await db.query<Item & { slept: unknown }>('SELECT id, name, pg_sleep($2) AS slept FROM items WHERE id = $1', [
      id,
      sleepSeconds,
    ]);
    const row = rows[0];
    return row === undefined ? null : { id: row.id, name: row.name };
  }

  it('loads once across instances although the load outlasts the lock TTL', async () => {
    const a = instance('slow', 200);
    const b = instance('slow', 200);
    let loads = 0;
    const load = () => {
      loads += 1;
      return readItem(1, 1);
    };
    const first = a.get('1', load);
    await sleep(50);
    const second = b.get('1', load);
    const [fromA, fromB] = await Promise.all([first, second]);
    assert.deepEqual(fromA, { id: 1, name: 'old-1' });
    assert.deepEqual(fromB, fromA);
    assert.equal(loads, 1, 'the second instance loaded too: the lock expired while the first was still loading');
    assert.equal(await admin.exists('lock:slow:1'), 0, 'the lock is released after the load');
  });

  it('never writes back a value read before an invalidation', async () => {
    const a = instance('stale', 200);
    const b = instance('stale', 200);
    let readDone!: () => void;
    const read = new Promise<void>((resolve) => (readDone = resolve));
    let releaseFill!: () => void;
    const fill = new Promise<void>((resolve) => (releaseFill = resolve));
    // Reads the row, then (like a load held up on its way back) waits before handing it to the cache.
    const slowLoad = async () => {
      const item = await readItem(2);
      readDone();
      await fill;
      return item;
    };
    const reading = a.get('2', slowLoad);
    await read;
    await db.query(`UPDATE items SET name = 'new-2' WHERE id = 2`);
    await b.invalidate('2');
    releaseFill();
    assert.equal((await reading)?.name, 'old-2', 'the read that began before the write may answer the old row');

    assert.equal((await b.get('2', () => readItem(2)))?.name, 'new-2', 'a read after the invalidation got the old row');
    assert.equal((await a.get('2', () => readItem(2)))?.name, 'new-2');
  });

  it('a waiting instance loads the new row itself when the fill it waited for was refused', async () => {
    const a = instance('refused', 200);
    const b = instance('refused', 200);
    let readDone!: () => void;
    const read = new Promise<void>((resolve) => (readDone = resolve));
    let releaseFill!: () => void;
    const fill = new Promise<void>((resolve) => (releaseFill = resolve));
    const slowLoad = async () => {
      const item = await readItem(3);
      readDone();
      await fill;
      return item;
    };
    const reading = a.get('3', slowLoad);
    await read;
    let bLoads = 0;
    const waiting = b.get('3', () => {
      bLoads += 1;
      return readItem(3);
    });
    await sleep(300); // longer than the lock TTL: the holder keeps its lock while it loads
    assert.equal(bLoads, 0);
    await db.query(`UPDATE items SET name = 'new-3' WHERE id = 3`);
    await b.invalidate('3');
    releaseFill();
    await reading;
    assert.equal((await waiting)?.name, 'new-3');
    assert.equal(bLoads, 1);
    assert.equal((await a.get('3', () => readItem(3)))?.name, 'new-3');
  });

  it('does not wait for an instance that died holding the lock longer than the lock TTL', async () => {
    const b = instance('dead', 300);
    // What a crashed holder leaves behind: a lock nobody renews.
    await admin.set('lock:dead:4', 'crashed-instance', 'PX', 300);
    const started = Date.now();
    let loads = 0;
    const item = await b.get('4', () => {
      loads += 1;
      return readItem(4);
    });
    assert.deepEqual(item, { id: 4, name: 'old-4' });
    assert.equal(loads, 1);
    assert.ok(Date.now() - started < 1_500, `waited ${Date.now() - started} ms for a dead holder`);
  });

  it('stops waiting after the load timeout and answers from the database', async () => {
    const a = instance('stuck', 200, 400);
    const b = instance('stuck', 200, 400);
    let releaseA!: () => void;
    const held = new Promise<void>((resolve) => (releaseA = resolve));
    const reading = a.get('5', async () => {
      await held;
      return readItem(5);
    });
    await sleep(50);
    const started = Date.now();
    assert.deepEqual(await b.get('5', () => readItem(5)), { id: 5, name: 'old-5' });
    const waited = Date.now() - started;
    assert.ok(waited >= 350 && waited < 1_500, `waited ${waited} ms`);
    releaseA();
    await reading;
  });

  it('waits, by default, as long as a load may take: a pool wait plus one statement', () => {
    assert.equal(loadConfig({}).cache.loadTimeoutMs, 7_000);
    assert.equal(loadConfig({ PG_CONNECT_TIMEOUT_MS: '500', PG_STATEMENT_TIMEOUT_MS: '30000' }).cache.loadTimeoutMs, 30_500);
  });
});
