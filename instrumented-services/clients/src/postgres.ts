import { envInt, envUrl } from '@lookout/config';
import { deadlineExceeded, remainingMs, withinDeadline, type DependencyCheck } from '@lookout/http-kit';
import { createGauge, createHistogram, exemplarFor, metrics, observeWithExemplar, OTHER, type Logger } from '@lookout/telemetry';
import pg from 'pg';
import type { z } from 'zod';

// bigint ids and counts arrive as strings by default; ours stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** The Postgres settings every service reads, to spread into its own environment schema. */
export const postgresEnv = {
  DATABASE_URL: envUrl('postgres://lookout:lookout@127.0.0.1:5432/lookout', ['postgres:', 'postgresql:']),
  PG_POOL_MAX: envInt(10, 1, 200),
  PG_IDLE_TIMEOUT_MS: envInt(30_000, 1_000, 600_000),
  PG_CONNECT_TIMEOUT_MS: envInt(2_000, 100, 60_000),
  PG_STATEMENT_TIMEOUT_MS: envInt(5_000, 100, 600_000),
};

export type PostgresSettings = ReturnType<typeof postgresSettings>;

export function postgresSettings(env: z.infer<z.ZodObject<typeof postgresEnv>>) {
  return {
    url: env.DATABASE_URL,
    poolMax: env.PG_POOL_MAX,
    idleTimeoutMs: env.PG_IDLE_TIMEOUT_MS,
    connectTimeoutMs: env.PG_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: env.PG_STATEMENT_TIMEOUT_MS,
  };
}

const operationDuration = createHistogram(metrics.dbClientOperationDuration);

/** error.type of a failed operation: the SQLSTATE when Postgres gave one (a bounded set), `_OTHER` otherwise. */
function errorType(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : OTHER;
}

/** Times one database operation (a query or a transaction) under a stable, low-cardinality name. */
export async function timeDbOperation<T>(operation: string, run: () => Promise<T>, system = 'postgresql'): Promise<T> {
  const start = process.hrtime.bigint();
  const exemplar = exemplarFor();
  let error_type = '';
  try {
    return await run();
  } catch (err) {
    error_type = errorType(err);
    throw err;
  } finally {
    const labels = { db_system_name: system, db_operation_name: operation, error_type };
    observeWithExemplar(operationDuration, labels, Number(process.hrtime.bigint() - start) / 1e9, exemplar);
  }
}

const pools = new Map<string, { pool: pg.Pool; max: number }>();

const QUERY_TIMEOUT_MARGIN_MS = 1_000;

// Read at scrape time from every pool created here.
createGauge(metrics.dbClientConnectionCount, (gauge) => {
  gauge.reset();
  for (const [name, { pool }] of pools) {
    gauge.set({ db_client_connection_pool_name: name, db_client_connection_state: 'idle' }, pool.idleCount);
    gauge.set({ db_client_connection_pool_name: name, db_client_connection_state: 'used' }, pool.totalCount - pool.idleCount);
  }
});
createGauge(metrics.dbClientConnectionMax, (gauge) => {
  gauge.reset();
  for (const [name, { max }] of pools) gauge.set({ db_client_connection_pool_name: name }, max);
});
createGauge(metrics.dbClientConnectionPendingRequests, (gauge) => {
  gauge.reset();
  for (const [name, { pool }] of pools) gauge.set({ db_client_connection_pool_name: name }, pool.waitingCount);
});

/** What node-postgres rejects a query with when its client-side `query_timeout` fires. */
const READ_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * Connections whose statement the client stopped waiting for: the server may still be running it, and a query
 * queued behind it on the same connection would wait for it, so such a connection is closed, never pooled again.
 */
const abandoned = new WeakSet<pg.ClientBase>();

/**
 * The deadline (on `performance.now()`'s clock) of the request a connection is checked out for, set by
 * `withClient`. Kept with the connection rather than read from the request context when a query is issued:
 * pg-pool resumes a queued `pool.query()` in the context of whoever released the connection, which would bound
 * one request's statement by another's deadline.
 */
const checkedOutFor = new WeakMap<pg.ClientBase, number>();

type QueryFn = (config: unknown, values?: unknown, callback?: unknown) => unknown;
type QueryCallback = (err: Error | null, result?: unknown) => void;

/** A query given as text or as a plain config object, the forms whose timeout can be set per call. */
function plainQuery(config: unknown): { text: string } | undefined {
  if (typeof config === 'string') return { text: config };
  if (typeof config !== 'object' || config === null) return undefined;
  const c = config as { text?: unknown; submit?: unknown };
  return typeof c.text === 'string' && typeof c.submit !== 'function' ? (config as { text: string }) : undefined;
}

/**
 * Bounds each query of `client` checked out by `withClient` inside a request by the request's deadline as well:
 * its `query_timeout` becomes the smaller of the pool's and the time the request has left, and a query after the
 * deadline fails at once without being sent. `query_timeout` is client-side only: it stops the waiting and frees the request, but
 * the server keeps running the statement until it ends or the server's statement_timeout (PG_STATEMENT_TIMEOUT_MS)
 * cancels it, which is why the connection is closed afterwards (see `abandoned`) instead of being pooled again
 * behind a statement still running. Outside a request (relays, jobs), and through `pool.query()`, queries keep the
 * pool's bound alone.
 */
function boundByDeadline(client: pg.ClientBase, configuredMs: number): void {
  const query = client.query.bind(client) as QueryFn;
  const bounded: QueryFn = (config, values, callback) => {
    const text = plainQuery(config);
    const deadline = checkedOutFor.get(client);
    const left = deadline === undefined ? undefined : deadline - performance.now();
    // A read timeout, whoever set it, leaves the statement running on the server.
    const noteTimeout = <E>(err: E): E | Error => {
      if (!(err instanceof Error) || err.message !== READ_TIMEOUT_MESSAGE) return err;
      abandoned.add(client);
      return left !== undefined && left < configuredMs ? deadlineExceeded('postgres-query', err) : err;
    };
    // query(config, callback) and query(config, values, callback), as node-postgres takes them.
    const cb = (typeof values === 'function' ? values : typeof callback === 'function' ? callback : undefined) as QueryCallback | undefined;
    const vals = typeof values === 'function' ? undefined : values;
    const noting = (done: QueryCallback): QueryCallback => (err, result) => done(err === null ? null : noteTimeout(err), result);
    if (text === undefined || left === undefined) {
      if (cb !== undefined) return query(config, vals, noting(cb));
      const result = query(config, vals);
      if (!(result instanceof Promise)) return result;
      return result.catch((err: unknown) => {
        throw noteTimeout(err);
      });
    }
    if (left <= 0) {
      const expired = deadlineExceeded('postgres-query');
      if (cb === undefined) return Promise.reject(expired);
      process.nextTick(cb, expired);
      return undefined;
    }
    const withTimeout = { ...text, query_timeout: Math.min(configuredMs, Math.ceil(left)) };
    if (cb !== undefined) return query(withTimeout, vals, noting(cb));
    return (query(withTimeout, vals) as Promise<unknown>).catch((err: unknown) => {
      throw noteTimeout(err);
    });
  };
  (client as unknown as { query: QueryFn }).query = bounded;
}

/**
 * A pooled Postgres connection. Connecting and each statement are bounded, so an outage answers 503 quickly
 * instead of queueing requests; inside a request both are bounded by its deadline too (see `withClient` and
 * `boundByDeadline`). Errors of idle clients (the server restarting) are logged, not fatal. Pool size,
 * used, idle and waiting counts are exported as metrics under `name` (db_client_connection_pool_name).
 */
export function createPgPool(settings: PostgresSettings, name: string, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.poolMax,
    idleTimeoutMillis: settings.idleTimeoutMs,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    // The server's statement_timeout cannot fire when the server or the network stops answering: the client gives
    // up a little after it, so a query never waits longer than its statement bound plus this margin.
    query_timeout: settings.statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS,
    application_name: name,
  });
  // Emitted for each new connection before it is first handed out.
  pool.on('connect', (client) => {
    boundByDeadline(client, settings.statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS);
  });
  pool.on('error', (err) => {
    logger.warn('idle postgres connection failed', { err: err.message });
  });
  pools.set(name, { pool, max: settings.poolMax });
  return pool;
}

/**
 * A connection from the pool, waiting no longer than the request has left (the pool's own connect timeout,
 * PG_CONNECT_TIMEOUT_MS, bounds it too); a request already out of time does not queue at all. A connection that
 * arrives after the request gave up goes straight back to the pool.
 */
async function acquire(pool: pg.Pool): Promise<pg.PoolClient> {
  const left = remainingMs();
  if (left === undefined) return pool.connect();
  if (left <= 0) throw deadlineExceeded('postgres-pool');
  const deadline = performance.now() + left;
  const client = await withinDeadline(pool.connect(), 'postgres-pool', (late) => {
    late.release();
  });
  checkedOutFor.set(client, deadline);
  return client;
}

/**
 * Runs `work` on a connection checked out of the pool. pg-pool stops listening for a connection's errors while it
 * is checked out, so a connection lost between two statements (Postgres stopped while the outbox relay waits for the
 * broker, or while the slow-query fault holds it) emitted an unhandled 'error' and crashed the service. Here the
 * error is caught, the next statement fails instead, and the broken connection is discarded, not pooled again; so
 * is one whose statement timed out on the client's side (see `abandoned`).
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await acquire(pool);
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } finally {
    client.removeListener('error', onError);
    checkedOutFor.delete(client);
    client.release(lost ?? abandoned.has(client));
  }
}

/**
 * Runs `work` in a transaction, rolling back on any error. COMMIT and ROLLBACK are not bounded by the request's
 * deadline (only by the pool's query timeout): the work is done, and a COMMIT cut short would leave the caller
 * not knowing whether it happened; a ROLLBACK must run to free the connection. After a statement timed out on the
 * client's side there is no ROLLBACK: it would queue behind that statement, and closing the connection (see
 * `withClient`) rolls the transaction back anyway.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    try {
      await client.query('BEGIN');
      const result = await work(client);
      checkedOutFor.delete(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      checkedOutFor.delete(client);
      if (!abandoned.has(client)) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

/** True for a unique-constraint violation, optionally of one named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; constraint?: unknown };
  return e.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/**
 * Readiness check of Postgres, critical wherever it is used. Each check opens a connection of its own, runs
 * `SELECT 1` and closes it, bounded by the connect timeout:
 * - not a connection of the service's pool: a pool saturated by slow statements must read as saturated
 *   (db_client_connection_pending_requests), not as Postgres unreachable, which would page for the wrong cause and
 *   silence the right one;
 * - not a pool of its own either: a connection attempt that timed out while Postgres restarted can leave a pool's
 *   only slot taken for good, and the check would then report Postgres down long after it is back.
 * Checks run every 10 s (and on each /readyz probe): one short-lived connection each.
 */
export function postgresCheck(settings: PostgresSettings, name: string): DependencyCheck {
  return {
    name: 'postgres',
    critical: true,
    check: async () => {
      const client = new pg.Client({
        connectionString: settings.url,
        connectionTimeoutMillis: settings.connectTimeoutMs,
        statement_timeout: 1_000,
        application_name: `${name}-health`,
      });
      // A connection lost mid-check surfaces as the query's rejection; this only keeps it from being unhandled.
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}
