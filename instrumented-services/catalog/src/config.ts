import { postgresEnv, postgresSettings, redisEnv } from '@lookout/clients';
import { envBool, envInt, parseEnv } from '@lookout/config';
import { serviceEnv, serviceSettings } from '@lookout/http-kit';
import { z } from 'zod';

/** Every environment variable the service reads; exported for test/unit/env-errors.test.ts, which tries each. */
export const schema = z.object({
  ...serviceEnv(8081),
  ...postgresEnv,
  ...redisEnv,
  CACHE_TTL_SECONDS: envInt(300, 1, 86_400),
  CACHE_NEGATIVE_TTL_SECONDS: envInt(30, 1, 3_600),
  CACHE_LOCK_TTL_MS: envInt(2_000, 50, 30_000),
  MIGRATE_ON_START: envBool(true),
  SEED_PRODUCTS: envInt(10_000, 0, 10_000_000),
});

export type CatalogConfig = ReturnType<typeof loadConfig>;

/** The catalog's settings from the environment; a bad value fails start-up with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(schema, env);
  return {
    http: serviceSettings(e),
    postgres: { ...postgresSettings(e), migrateOnStart: e.MIGRATE_ON_START, seedProducts: e.SEED_PRODUCTS },
    redis: { url: e.REDIS_URL, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS },
    cache: {
      ttlSeconds: e.CACHE_TTL_SECONDS,
      negativeTtlSeconds: e.CACHE_NEGATIVE_TTL_SECONDS,
      lockTtlMs: e.CACHE_LOCK_TTL_MS,
      // The worst case of a healthy load: a wait for a pooled connection, then one statement. Other instances wait
      // this long for the lock holder's value before they answer from the database.
      loadTimeoutMs: e.PG_CONNECT_TIMEOUT_MS + e.PG_STATEMENT_TIMEOUT_MS,
    },
  };
}
