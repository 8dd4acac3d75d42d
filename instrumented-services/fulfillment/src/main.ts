import path from 'node:path';
import { connectRabbitMQ, createPgPool, postgresCheck, rabbitmqCheck, runMigrations } from '@lookout/clients';
import { createServiceApp, FaultRegistry, runService, serve } from '@lookout/http-kit';
import { shopFaultSpec, SUPPORTED_FAULTS } from '@lookout/shop-contracts';
import { createLogger } from '@lookout/telemetry';
import { loadConfig } from './config.js';
import { OrderConsumer } from './consumer.js';

runService('fulfillment', async () => {
  const logger = createLogger();
  const config = loadConfig();

  const pool = createPgPool(config.postgres, 'fulfillment', logger);
  if (config.postgres.migrateOnStart) {
    // Its own tables only (the e-mail log), in the orders database: the orders service migrates the rest.
    await runMigrations(
      { databaseUrl: config.postgres.url, dir: path.resolve(__dirname, '../../migrations'), table: 'pgmigrations_fulfillment' },
      logger,
    );
  }
  const rabbitmq = connectRabbitMQ(config.rabbitmqUrl, 'fulfillment', logger);
  const faults = new FaultRegistry(shopFaultSpec, SUPPORTED_FAULTS.fulfillment, logger);
  const consumer = new OrderConsumer(pool, rabbitmq, config, faults, logger);

  // HTTP only for health, metrics and fault injection: the work arrives over RabbitMQ.
  const { app, lifecycle, management } = createServiceApp({
    http: config.http,
    logger,
    faults,
    checks: [postgresCheck(config.postgres, 'fulfillment'), rabbitmqCheck(rabbitmq, true)],
    mount: () => undefined,
  });
  await serve(app, {
    ...config.http,
    management,
    logger,
    lifecycle,
    onShutdown: [() => consumer.stop(), () => rabbitmq.close(), () => pool.end()],
  });
});
