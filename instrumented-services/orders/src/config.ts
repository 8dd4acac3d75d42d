import { postgresEnv, postgresSettings, rabbitmqEnv } from '@lookout/clients';
import { envBool, envInt, envUrl, parseEnv } from '@lookout/config';
import { serviceEnv, serviceSettings } from '@lookout/http-kit';
import { z } from 'zod';

const schema = z.object({
  ...serviceEnv(8082),
  ...postgresEnv,
  ...rabbitmqEnv,
  CATALOG_URL: envUrl('http://127.0.0.1:8081', ['http:', 'https:']),
  CATALOG_TIMEOUT_MS: envInt(2_000, 50, 60_000),
  OUTBOX_POLL_INTERVAL_MS: envInt(500, 10, 60_000),
  OUTBOX_BATCH_SIZE: envInt(100, 1, 10_000),
  OUTBOX_METRICS_INTERVAL_MS: envInt(5_000, 100, 60_000),
  PUBLISH_TIMEOUT_MS: envInt(5_000, 100, 60_000),
  MIGRATE_ON_START: envBool(true),
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
  };
}
