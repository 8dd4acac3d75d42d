import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpProblem, runWithDeadline } from '@lookout/http-kit';
import { createLogger } from '@lookout/telemetry';
import { PostgresServer } from '@lookout/testkit';
import type pg from 'pg';
import { createPgPool, inTransaction, postgresSettings, withClient } from '../../src/postgres.js';

const logger = createLogger({ level: 'error' });

function isDeadline(stage: string) {
  return (err: unknown) => {
    assert.ok(err instanceof HttpProblem, `not the deadline problem: ${String(err)}`);
    assert.equal(err.status, 504);
    assert.equal(err.type, 'urn:lookout:problem:deadline-exceeded');
    assert.equal(err.extensions.stage, stage);
    return true;
  };
}

/** How long `work` took to settle, in ms. */
async function timed(work: Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work.catch(() => undefined);
  return performance.now() - started;
}

describe('Postgres pool and queries bounded by the request deadline, on a real server', () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  const name = 'deadline-test';

  before(async () => {
    server = await PostgresServer.create();
    const settings = postgresSettings({
      DATABASE_URL: server.url(),
      PG_POOL_MAX: 1,
      PG_IDLE_TIMEOUT_MS: 30_000,
      PG_CONNECT_TIMEOUT_MS: 5_000,
      PG_STATEMENT_TIMEOUT_MS: 3_000,
    });
    pool = createPgPool(settings, name, logger);
  });
  after(async () => {
    await pool.end();
    await server.destroy();
  });

  it('cuts a slow statement at the deadline, and the next request gets a connection that is not stuck behind it', async () => {
    const slow = runWithDeadline(300, () => withClient(pool, (c) => c.query('SELECT pg_sleep(2)')));
    const took = await timed(slow);
    await assert.rejects(slow, isDeadline('postgres-query'));
    assert.ok(took >= 290 && took < 800, `the statement was given up after ${took} ms`);
    // The statement is still running on the server (query_timeout is the client's), bounded by statement_timeout:
    // the connection it runs on was closed, not pooled again, so the next query does not queue behind it.
    const next = runWithDeadline(1_000, () => withClient(pool, (c) => c.query<{ one: number }>('SELECT 1 AS one')));
    const nextTook = await timed(next);
    assert.equal((await next).rows[0]?.one, 1);
    assert.ok(nextTook < 500, `the next query took ${nextTook} ms`);
  });

  it('stops waiting for a pooled connection at the deadline, and the connection returns to the pool afterwards', async () => {
    let releaseHolder: () => void = () => undefined;
    const holder = withClient(pool, () => new Promise<void>((resolve) => (releaseHolder = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waiter = runWithDeadline(200, () => withClient(pool, (c) => c.query('SELECT 1')));
    const took = await timed(waiter);
    await assert.rejects(waiter, isDeadline('postgres-pool'));
    assert.ok(took >= 190 && took < 600, `waited ${took} ms for a connection`);
    releaseHolder();
    await holder;
    // The abandoned wait got the connection once it was free and gave it straight back.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(pool.waitingCount, 0);
    assert.equal(pool.idleCount, pool.totalCount);
    const after = await withClient(pool, (c) => c.query<{ one: number }>('SELECT 1 AS one'));
    assert.equal(after.rows[0]?.one, 1);
  });

  it('refuses at once when the deadline has passed, without taking a connection or sending anything', async () => {
    const idleBefore = pool.idleCount;
    let ran = false;
    const late = runWithDeadline(0, () =>
      withClient(pool, async () => {
        ran = true;
        return Promise.resolve();
      }),
    );
    assert.ok((await timed(late)) < 50);
    await assert.rejects(late, isDeadline('postgres-pool'));
    assert.equal(ran, false);
    assert.equal(pool.idleCount, idleBefore);
    assert.equal(pool.waitingCount, 0);
  });

  it('rolls back a transaction whose deadline passed between statements, and keeps the pool bound outside requests', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS deadline_rows (id int)');
    const tx = runWithDeadline(300, () =>
      inTransaction(pool, async (c) => {
        await c.query('INSERT INTO deadline_rows VALUES (1)');
        await new Promise((resolve) => setTimeout(resolve, 400));
        await c.query('INSERT INTO deadline_rows VALUES (2)');
      }),
    );
    await assert.rejects(tx, isDeadline('postgres-query'));
    assert.equal((await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM deadline_rows')).rows[0]?.n, 0, 'the first insert was committed');
    // Outside a request, only the pool's own bound applies: a 1 s statement completes.
    const outside = await pool.query<{ done: string }>(`SELECT pg_sleep(1)::text AS done`);
    assert.equal(outside.rows.length, 1);
  });
});
