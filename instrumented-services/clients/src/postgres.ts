import { envInt, envUrl } from '@lookout/config';
import type { DependencyCheck } from '@lookout/http-kit';
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

/**
 * A pooled Postgres connection. Connecting and each statement are bounded, so an outage answers 503 quickly
 * instead of queueing requests; errors of idle clients (the server restarting) are logged, not fatal. Pool size,
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
  pool.on('error', (err) => {
    logger.warn('idle postgres connection failed', { err: err.message });
  });
  pools.set(name, { pool, max: settings.poolMax });
  return pool;
}

/**
 * Runs `work` on a connection checked out of the pool. pg-pool stops listening for a connection's errors while it
 * is checked out, so a connection lost between two statements (Postgres stopped while the outbox relay waits for the
 * broker, or while the slow-query fault holds it) emitted an unhandled 'error' and crashed the service. Here the
 * error is caught, the next statement fails instead, and the broken connection is discarded, not pooled again.
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } finally {
    client.removeListener('error', onError);
    client.release(lost ?? false);
  }
}

/** Runs `work` in a transaction, rolling back on any error. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
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
