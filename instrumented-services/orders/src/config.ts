import { postgresEnv, postgresSettings, rabbitmqEnv } from '@lookout/clients';
import { envBool, envInt, envUrl, parseEnv } from '@lookout/config';
import { serviceEnv, serviceSettings } from '@lookout/http-kit';
import { z } from 'zod';

/** Every environment variable the service reads; exported for test/unit/env-errors.test.ts, which tries each. */
export const schema = z.object({
  ...serviceEnv(8082),
  ...postgresEnv,
  ...rabbitmqEnv,
  CATALOG_URL: envUrl('http://127.0.0.1:8081', ['http:', 'https:']),
  /**
   * The most a catalog lookup may take (less when the request has less left). Half the gateway's
   * UPSTREAM_TIMEOUT_MS (2000), so that an order whose lookups take all of it still has time for its transaction;
   * see the budget chain in the README of instrumented-services.
   */
  CATALOG_TIMEOUT_MS: envInt(1_000, 50, 60_000),
  OUTBOX_POLL_INTERVAL_MS: envInt(500, 10, 60_000),
  OUTBOX_BATCH_SIZE: envInt(100, 1, 10_000),
  OUTBOX_METRICS_INTERVAL_MS: envInt(5_000, 100, 60_000),
  PUBLISH_TIMEOUT_MS: envInt(5_000, 100, 60_000),
  MIGRATE_ON_START: envBool(true),
  // Both tables hold customer data (the event payload carries the e-mail address, a key's request hash is derived
  // from it): published events are kept a week for investigations, keys as long as a retry is honoured.
  OUTBOX_RETENTION_HOURS: envInt(168, 1, 2_160),
  IDEMPOTENCY_KEY_RETENTION_HOURS: envInt(24, 1, 720),
  RETENTION_INTERVAL_MS: envInt(300_000, 1_000, 86_400_000),
  RETENTION_BATCH_SIZE: envInt(1_000, 1, 10_000),
});

export type OrdersConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(schema, env);
  return {
    http: serviceSettings(e),
    postgres: { ...postgresSettings(e), migrateOnStart: e.MIGRATE_ON_START },
    rabbitmqUrl: e.RABBITMQ_URL,
    catalog: { url: e.CATALOG_URL, timeoutMs: e.CATALOG_TIMEOUT_MS },
    outbox: { pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS, batchSize: e.OUTBOX_BATCH_SIZE, publishTimeoutMs: e.PUBLISH_TIMEOUT_MS },
    outboxMetrics: { intervalMs: e.OUTBOX_METRICS_INTERVAL_MS },
    retention: {
      outboxHours: e.OUTBOX_RETENTION_HOURS,
      idempotencyKeyHours: e.IDEMPOTENCY_KEY_RETENTION_HOURS,
      intervalMs: e.RETENTION_INTERVAL_MS,
      batchSize: e.RETENTION_BATCH_SIZE,
    },
  };
}
