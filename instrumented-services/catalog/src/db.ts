import { observePool, type Logger } from '@lookout/telemetry';
import pg from 'pg';
import type { CatalogConfig } from './config.js';

// bigint ids and counts arrive as strings by default; ours stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * The pooled Postgres connection. Connecting and each statement are bounded, so an outage answers 503 quickly
 * instead of queueing requests; errors of idle clients (the server restarting) are logged, not fatal.
 */
export function createPool(config: CatalogConfig['postgres'], logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax,
    idleTimeoutMillis: config.idleTimeoutMs,
    connectionTimeoutMillis: config.connectTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    application_name: 'catalog',
  });
  pool.on('error', (err) => {
    logger.warn('idle postgres connection failed', { err: err.message });
  });
  observePool('catalog', pool, config.poolMax);
  return pool;
}
