import path from 'node:path';
import { connectRabbitMQ, createPgPool, FaultRegistry, runMigrations } from '@lookout/service-kit';
import { createLogger, serve } from '@lookout/telemetry';
import { createApp } from './app.js';
import { CatalogClient } from './catalog-client.js';
import { loadConfig } from './config.js';
import { OrdersRepository } from './orders-repo.js';
import { OutboxRelay } from './outbox.js';

async function main(): Promise<void> {
  const logger = createLogger();
  const config = loadConfig();

  const pool = createPgPool(config.postgres, 'orders', logger);
  if (config.postgres.migrateOnStart) {
    await runMigrations(
      { databaseUrl: config.postgres.url, dir: path.resolve(__dirname, '../../migrations'), table: 'pgmigrations_orders' },
      logger,
    );
  }
  const rabbitmq = connectRabbitMQ(config.rabbitmqUrl, 'orders', logger);
  const faults = new FaultRegistry(new Set(['latency', 'errors', 'slow_queries', 'publish_blocked']), logger);
  const relay = new OutboxRelay(pool, rabbitmq, { ...config.outbox, blocked: () => faults.get('publish_blocked') !== undefined }, logger);
  const catalog = new CatalogClient(config.catalog.url, config.catalog.timeoutMs);

  const { app, lifecycle } = createApp({
    repo: new OrdersRepository(pool, () => faults.beforeQuery()),
    catalog,
    onCreated: () => relay.kick(),
    faults,
    adminToken: config.adminToken,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    checks: [
      { name: 'postgres', critical: true, check: () => pool.query('SELECT 1') },
      // Orders are accepted while the broker is down (the outbox keeps them), so it only degrades readiness.
      {
        name: 'rabbitmq',
        critical: false,
        check: () => (rabbitmq.isConnected() ? Promise.resolve() : Promise.reject(new Error('not connected'))),
      },
    ],
  });
  relay.start();

  await serve(app, {
    port: config.port,
    host: config.host,
    logger,
    lifecycle,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    onShutdown: [() => relay.stop(), () => rabbitmq.close(), () => catalog.close(), () => pool.end()],
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`orders failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
