import assert from 'node:assert/strict';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createPgPool, runMigrations } from '@lookout/clients';
import { createLogger, registry } from '@lookout/telemetry';
import { metrics as contract } from '@lookout/telemetry/contract';
import { ADMIN_TOKEN, parseMetrics, ShopStack, sleep, sumOf, waitFor } from '@lookout/testkit';
import type pg from 'pg';
import { RetentionJob, type RetentionOptions } from '../../src/retention.js';

const MIGRATIONS = path.resolve(__dirname, '../../../migrations');

/** Log lines of an in-process logger, parsed. */
function capturedLogger() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { logger: createLogger({ stream, service: 'retention-test' }), lines };
}

interface Fixture {
  /** Outbox ids by what should happen to them. */
  outbox: { expired: number[]; kept: number[] };
  keys: { expired: string[]; kept: string[] };
  orders: number[];
}

/**
 * Orders with their keys and events at chosen ages: published long ago, published within the retention, never
 * published (however old), keys past and within the retry window.
 */
async function insertRows(db: pg.Pool, tag: string, counts = { expiredEvents: 5, expiredKeys: 3 }): Promise<Fixture> {
  const fixture: Fixture = { outbox: { expired: [], kept: [] }, keys: { expired: [], kept: [] }, orders: [] };
  const order = async (key: string, keyAgeHours: number) => {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO orders (client_id, customer_email, total_cents, currency) VALUES ($1, 'buyer@example.com', 100, 'EUR') RETURNING id`,
      [tag],
    );
    const id = (rows[0] as { id: number }).id;
    await db.query(
      `INSERT INTO idempotency_keys (client_id, key, request_hash, order_id, created_at)
       VALUES ($1, $2, 'hash', $3, now() - make_interval(hours => $4))`,
      [tag, key, id, keyAgeHours],
    );
    fixture.orders.push(id);
    return id;
  };
  const event = async (orderId: number, createdHoursAgo: number, sentHoursAgo: number | null) => {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO outbox (routing_key, payload, created_at, sent_at)
       VALUES ('order.created', jsonb_build_object('orderId', $1::bigint, 'customerEmail', 'buyer@example.com'),
               now() - make_interval(hours => $2), now() - make_interval(hours => $3)) RETURNING id`,
      [orderId, createdHoursAgo, sentHoursAgo],
    );
    return (rows[0] as { id: number }).id;
  };
  for (let i = 0; i < Math.max(counts.expiredEvents, counts.expiredKeys); i++) {
    const id = await order(`${tag}-old-${i}`, i < counts.expiredKeys ? 25 + i : 1);
    (i < counts.expiredKeys ? fixture.keys.expired : fixture.keys.kept).push(`${tag}-old-${i}`);
    if (i < counts.expiredEvents) fixture.outbox.expired.push(await event(id, 8 * 24 + i, 8 * 24 + i));
  }
  const recent = await order(`${tag}-recent`, 23);
  fixture.keys.kept.push(`${tag}-recent`);
  // Created long ago but published within the retention: its age counts from publication.
  fixture.outbox.kept.push(await event(recent, 30 * 24, 6 * 24));
  fixture.outbox.kept.push(await event(recent, 1, 1));
  // Never published: the relay still owes it to the broker, however old it is.
  fixture.outbox.kept.push(await event(recent, 30 * 24, null));
  return fixture;
}

async function remaining(db: pg.Pool, fixture: Fixture) {
  const outbox = await db.query<{ id: number }>('SELECT id FROM outbox WHERE id = ANY($1::bigint[]) ORDER BY id', [
    [...fixture.outbox.expired, ...fixture.outbox.kept],
  ]);
  const keys = await db.query<{ key: string }>('SELECT key FROM idempotency_keys WHERE key = ANY($1::text[]) ORDER BY key', [
    [...fixture.keys.expired, ...fixture.keys.kept],
  ]);
  const orders = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::bigint[])', [fixture.orders]);
  return { outbox: outbox.rows.map((r) => r.id), keys: keys.rows.map((r) => r.key), orders: orders.rows[0]?.n ?? 0 };
}

const sorted = <T extends string | number>(values: readonly T[]) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('retention of outbox events and idempotency keys, on real Postgres', () => {
  let stack: ShopStack;
  let db: pg.Pool;
  const options: RetentionOptions = { outboxHours: 7 * 24, idempotencyKeyHours: 24, intervalMs: 60_000, batchSize: 2 };

  before(async () => {
    stack = await ShopStack.start({
      start: ['orders'],
      env: { orders: { RETENTION_INTERVAL_MS: '1000', PG_STATEMENT_TIMEOUT_MS: '2000' } },
    });
    // A database of its own for the job run in this process, migrated like the service's.
    await stack.database('orders').query('CREATE DATABASE retention');
    const { logger } = capturedLogger();
    await runMigrations({ databaseUrl: stack.postgres.url('retention'), dir: MIGRATIONS, table: 'pgmigrations_orders' }, logger);
    db = stack.database('retention');
  });
  after(async () => {
    await stack.stop();
  });

  it('deletes what expired in bounded batches, keeps recent and unpublished rows and every order', async () => {
    const fixture = await insertRows(db, 'batches');
    const { logger, lines } = capturedLogger();
    const pool = createPgPool({ ...settings(), url: stack.postgres.url('retention') }, 'retention-batches', logger);
    try {
      const batchesBefore = await purgeStatements();
      const round = await new RetentionJob(pool, options, logger).runOnce();
      assert.deepEqual(round, { outbox: 5, idempotencyKeys: 3 });
      const left = await remaining(db, fixture);
      assert.deepEqual(left.outbox, sorted(fixture.outbox.kept));
      assert.deepEqual(left.keys, sorted(fixture.keys.kept));
      assert.equal(left.orders, fixture.orders.length, 'an order was deleted with its key');
      // 5 events in batches of 2: 2, 2, 1; 3 keys: 2, 1.
      const batches = await purgeStatements();
      assert.equal(batches.outbox - batchesBefore.outbox, 3);
      assert.equal(batches.keys - batchesBefore.keys, 2);
      assert.ok(lines.some((l) => l.message === 'retention: expired rows deleted' && l.outbox === 5 && l.idempotency_keys === 3));

      assert.deepEqual(await new RetentionJob(pool, options, logger).runOnce(), { outbox: 0, idempotencyKeys: 0 });
      assert.deepEqual(await remaining(db, fixture), left);
    } finally {
      await pool.end();
    }
  });

  it('honours the configured retention: a shorter one deletes more', async () => {
    const fixture = await insertRows(db, 'shorter', { expiredEvents: 1, expiredKeys: 1 });
    const { logger } = capturedLogger();
    const pool = createPgPool({ ...settings(), url: stack.postgres.url('retention') }, 'retention-shorter', logger);
    try {
      // 2 hours: everything published and every key but the 1-hour-old ones go; the unpublished event stays.
      await new RetentionJob(pool, { ...options, outboxHours: 2, idempotencyKeyHours: 2 }, logger).runOnce();
      const left = await remaining(db, fixture);
      const unpublished = fixture.outbox.kept.at(-1) as number;
      const lastHour = fixture.outbox.kept.at(-2) as number;
      assert.deepEqual(left.outbox, sorted([lastHour, unpublished]));
      assert.deepEqual(left.keys, []);
    } finally {
      await pool.end();
    }
  });

  it('runs in the service: expired rows go within a round, recent and unpublished stay', async () => {
    const orders = stack.service('orders');
    // The relay would publish the unsent event (and date it now): keep it from publishing.
    const blocked = await orders.fetch('/admin/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'publish_blocked', durationSeconds: 300 }),
    });
    assert.ok(blocked.ok, await blocked.text());
    const service = stack.database('orders');
    const fixture = await insertRows(service, 'service');
    await waitFor('the service to delete the expired rows', async () => {
      const left = await remaining(service, fixture);
      return left.outbox.length === fixture.outbox.kept.length && left.keys.length === fixture.keys.kept.length ? left : undefined;
    });
    const left = await remaining(service, fixture);
    assert.deepEqual(left.outbox, sorted(fixture.outbox.kept));
    assert.deepEqual(left.keys, sorted(fixture.keys.kept));
    assert.equal(left.orders, fixture.orders.length);
    assert.ok(orders.logs.some((l) => l.message === 'retention: expired rows deleted'));
  });

  it('refuses bad retention settings at start-up, naming each', async () => {
    await assert.rejects(
      stack.startService('orders', { OUTBOX_RETENTION_HOURS: '0', IDEMPOTENCY_KEY_RETENTION_HOURS: 'a day', RETENTION_BATCH_SIZE: '100000' }),
      (err: unknown) => {
        const message = String(err);
        for (const name of ['OUTBOX_RETENTION_HOURS', 'IDEMPOTENCY_KEY_RETENTION_HOURS', 'RETENTION_BATCH_SIZE']) {
          assert.match(message, new RegExp(name));
        }
        return true;
      },
    );
  });

  it('logs a failed round and keeps going; stops on stop(), also from a running schedule', async () => {
    const { logger, lines } = capturedLogger();
    const pool = createPgPool({ ...settings(), url: stack.postgres.url('retention'), connectTimeoutMs: 500 }, 'retention-outage', logger);
    const job = new RetentionJob(pool, { ...options, intervalMs: 100 }, logger);
    try {
      await stack.postgres.stop();
      try {
        assert.deepEqual(await job.runOnce(), { outbox: 0, idempotencyKeys: 0 });
        const failures = lines.filter((l) => l.message === 'retention: purge failed; the next round tries again');
        assert.deepEqual(failures.map((l) => l.table).sort(), ['idempotency_keys', 'outbox']);
        job.start();
        await sleep(300);
      } finally {
        await stack.postgres.start();
      }
      const fixture = await insertRows(db, 'recovered', { expiredEvents: 1, expiredKeys: 1 });
      await waitFor('the scheduled rounds to purge again after the outage', async () => {
        const left = await remaining(db, fixture);
        return left.outbox.length === fixture.outbox.kept.length && left.keys.length === fixture.keys.kept.length ? true : undefined;
      });
      await job.stop();
      const after = await insertRows(db, 'stopped', { expiredEvents: 1, expiredKeys: 1 });
      await sleep(400);
      const left = await remaining(db, after);
      assert.equal(left.outbox.length, after.outbox.expired.length + after.outbox.kept.length, 'a round ran after stop()');
    } finally {
      await job.stop();
      await pool.end();
    }
  });
});

function settings() {
  return { url: '', poolMax: 2, idleTimeoutMs: 10_000, connectTimeoutMs: 2_000, statementTimeoutMs: 5_000 };
}

/** How many purge statements ran in this process, per table (db_client_operation_duration_seconds). */
async function purgeStatements(): Promise<{ outbox: number; keys: number }> {
  const samples = parseMetrics(await registry.metrics());
  const count = (operation: string) =>
    sumOf(samples, `${contract.dbClientOperationDuration.name}_count`, { db_operation_name: operation });
  return { outbox: count('outbox.purge'), keys: count('idempotency_keys.purge') };
}
