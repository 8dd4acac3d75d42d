import { observePool, type Logger } from '@lookout/telemetry';
import pg from 'pg';
import { z } from 'zod';
import { envInt, envUrl } from './config.js';

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

/**
 * A pooled Postgres connection. Connecting and each statement are bounded, so an outage answers 503 quickly
 * instead of queueing requests; errors of idle clients (the server restarting) are logged, not fatal. Pool size,
 * idle and waiting counts are exported as metrics under `name`.
 */
export function createPgPool(settings: PostgresSettings, name: string, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.poolMax,
    idleTimeoutMillis: settings.idleTimeoutMs,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    application_name: name,
  });
  pool.on('error', (err) => {
    logger.warn('idle postgres connection failed', { err: err.message });
  });
  observePool(name, pool, settings.poolMax);
  return pool;
}

/** Runs `work` in a transaction, rolling back on any error. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** True for a unique-constraint violation, optionally of one named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; constraint?: unknown };
  return e.code === '23505' && (constraint === undefined || e.constraint === constraint);
}
