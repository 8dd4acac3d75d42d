import path from 'node:path';
import { connectRabbitMQ, createPgPool, postgresCheck, rabbitmqCheck, runMigrations } from '@lookout/clients';
import { FaultRegistry, runService, serve } from '@lookout/http-kit';
import { shopFaultSpec, SUPPORTED_FAULTS, waitOutSlowQueries } from '@lookout/shop-contracts';
import { createLogger } from '@lookout/telemetry';
import { createApp } from './app.js';
import { CatalogClient } from './catalog-client.js';
import { loadConfig } from './config.js';
import { OrdersRepository } from './orders-repo.js';
import { OutboxMonitor, outboxStateReader, registerOutboxGauges } from './outbox-metrics.js';
import { OutboxRelay } from './outbox.js';
import { RetentionJob } from './retention.js';

runService('orders', async () => {
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
  const faults = new FaultRegistry(shopFaultSpec, SUPPORTED_FAULTS.orders, logger);
  const relay = new OutboxRelay(pool, rabbitmq, { ...config.outbox, blocked: () => faults.get('publish_blocked') !== undefined }, logger);
  const outbox = new OutboxMonitor(outboxStateReader(pool, config.postgres.statementTimeoutMs), config.outboxMetrics, logger);
  registerOutboxGauges(outbox);
  const retention = new RetentionJob(pool, config.retention, logger);
  const catalog = new CatalogClient(config.catalog.url, config.catalog.timeoutMs);

  const { app, lifecycle, management } = createApp({
    http: config.http,
    repo: new OrdersRepository(pool, () => waitOutSlowQueries(faults)),
    catalog,
    onCreated: () => relay.kick(),
    faults,
    logger,
    // Orders are accepted while the broker is down (the outbox keeps them), so it only degrades readiness.
    checks: [postgresCheck(config.postgres, 'orders'), rabbitmqCheck(rabbitmq, false)],
  });
  relay.start();
  outbox.start();
  retention.start();
  await serve(app, {
    ...config.http,
    management,
    logger,
    lifecycle,
    onShutdown: [
      () => relay.stop(),
      () => outbox.stop(),
      () => retention.stop(),
      () => rabbitmq.close(),
      () => catalog.close(),
      () => pool.end(),
    ],
  });
});
