import { envBool, envInt, envPort, envUrl, parseEnv } from '@lookout/service-kit';
import { z } from 'zod';

const schema = z.object({
  PORT: envPort(8081),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: envUrl('postgres://lookout:lookout@127.0.0.1:5432/lookout', ['postgres:', 'postgresql:']),
  PG_POOL_MAX: envInt(10, 1, 200),
  PG_IDLE_TIMEOUT_MS: envInt(30_000, 1_000, 600_000),
  PG_CONNECT_TIMEOUT_MS: envInt(2_000, 100, 60_000),
  PG_STATEMENT_TIMEOUT_MS: envInt(5_000, 100, 600_000),
  REDIS_URL: envUrl('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  REDIS_COMMAND_TIMEOUT_MS: envInt(250, 10, 10_000),
  CACHE_TTL_SECONDS: envInt(300, 1, 86_400),
  CACHE_NEGATIVE_TTL_SECONDS: envInt(30, 1, 3_600),
  CACHE_LOCK_TTL_MS: envInt(2_000, 50, 30_000),
  MIGRATE_ON_START: envBool(true),
  SEED_PRODUCTS: envInt(10_000, 0, 10_000_000),
  BODY_LIMIT_BYTES: envInt(16_384, 1_024, 10_485_760),
  SHUTDOWN_TIMEOUT_MS: envInt(10_000, 1_000, 120_000),
});

export type CatalogConfig = ReturnType<typeof loadConfig>;

/** The catalog's settings from the environment; a bad value fails start-up with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(schema, env);
  return {
    port: e.PORT,
    host: e.HOST,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    postgres: {
      url: e.DATABASE_URL,
      poolMax: e.PG_POOL_MAX,
      idleTimeoutMs: e.PG_IDLE_TIMEOUT_MS,
      connectTimeoutMs: e.PG_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS,
      migrateOnStart: e.MIGRATE_ON_START,
      seedProducts: e.SEED_PRODUCTS,
    },
    redis: { url: e.REDIS_URL, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS },
    cache: {
      ttlSeconds: e.CACHE_TTL_SECONDS,
      negativeTtlSeconds: e.CACHE_NEGATIVE_TTL_SECONDS,
      lockTtlMs: e.CACHE_LOCK_TTL_MS,
    },
  };
}
