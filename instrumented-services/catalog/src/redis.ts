import type { Logger } from '@lookout/telemetry';
import { Redis } from 'ioredis';
import type { CatalogConfig } from './config.js';

/**
 * The Redis client. Commands fail fast while disconnected (no offline queue, one retry, a command timeout), so a
 * Redis outage degrades reads to Postgres instead of stalling them; reconnection goes on in the background.
 */
export function createRedis(config: CatalogConfig['redis'], logger: Logger): Redis {
  const redis = new Redis(config.url, {
    connectionName: 'catalog',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // ioredis emits an error per failed reconnect; log the transitions, not every attempt.
  let healthy = true;
  redis.on('error', (err: Error) => {
    if (healthy) logger.warn('redis unavailable, serving reads from postgres', { err: err.message });
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) logger.info('redis available again');
    healthy = true;
  });
  return redis;
}
