import { envInt, envUrl } from '@lookout/config';
import type { DependencyCheck } from '@lookout/http-kit';
import type { Logger } from '@lookout/telemetry';
import { Redis } from 'ioredis';

/** The Redis settings of services that use it. */
export const redisEnv = {
  REDIS_URL: envUrl('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  REDIS_COMMAND_TIMEOUT_MS: envInt(250, 10, 10_000),
};

/**
 * A Redis client whose commands fail fast while disconnected (no offline queue, one retry, a command timeout), so
 * an outage degrades the service instead of stalling it; reconnection goes on in the background.
 */
export function createRedis(settings: { url: string; commandTimeoutMs: number }, name: string, logger: Logger): Redis {
  const redis = new Redis(settings.url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: settings.commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // ioredis emits an error per failed reconnect; log the transitions, not every attempt.
  let healthy = true;
  redis.on('error', (err: Error) => {
    if (healthy) logger.warn('redis unavailable', { err: err.message });
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) logger.info('redis available again');
    healthy = true;
  });
  return redis;
}

/** Readiness check of a Redis client; `critical` when the service cannot answer without it. */
export function redisCheck(redis: Redis, critical: boolean): DependencyCheck {
  return { name: 'redis', critical, check: () => redis.ping() };
}
