import { postgresEnv, postgresSettings, rabbitmqEnv } from '@lookout/clients';
import { envBool, envInt, parseEnv } from '@lookout/config';
import { serviceEnv, serviceSettings } from '@lookout/http-kit';
import { z } from 'zod';

/** Every environment variable the service reads; exported for test/unit/env-errors.test.ts, which tries each. */
export const schema = z.object({
  ...serviceEnv(8083),
  ...postgresEnv,
  ...rabbitmqEnv,
  PREFETCH: envInt(20, 1, 1_000),
  MAX_ATTEMPTS: envInt(5, 1, 50),
  RETRY_BASE_DELAY_MS: envInt(200, 10, 600_000),
  RETRY_MAX_DELAY_MS: envInt(30_000, 10, 3_600_000),
  BATCH_SIZE: envInt(50, 1, 10_000),
  BATCH_INTERVAL_MS: envInt(100, 1, 60_000),
  PAYMENT_MIN_MS: envInt(5, 0, 60_000),
  PAYMENT_MAX_MS: envInt(25, 0, 60_000),
  MIGRATE_ON_START: envBool(true),
});

export type FulfillmentConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(schema, env);
  return {
    http: serviceSettings(e),
    postgres: { ...postgresSettings(e), migrateOnStart: e.MIGRATE_ON_START },
    rabbitmqUrl: e.RABBITMQ_URL,
    consumer: {
      prefetch: e.PREFETCH,
      maxAttempts: e.MAX_ATTEMPTS,
      backoff: { baseMs: e.RETRY_BASE_DELAY_MS, maxMs: Math.max(e.RETRY_BASE_DELAY_MS, e.RETRY_MAX_DELAY_MS) },
    },
    batch: { size: e.BATCH_SIZE, intervalMs: e.BATCH_INTERVAL_MS },
    payment: { minMs: Math.min(e.PAYMENT_MIN_MS, e.PAYMENT_MAX_MS), maxMs: e.PAYMENT_MAX_MS },
  };
}
