import { connectRabbitMQ, createPgPool, createServiceApp, FaultRegistry, postgresCheck, rabbitmqCheck, runService } from '@lookout/service-kit';
import { createLogger, serve } from '@lookout/telemetry';
import { loadConfig } from './config.js';
import { OrderConsumer } from './consumer.js';

runService('fulfillment', async () => {
  const logger = createLogger();
  const config = loadConfig();

  const pool = createPgPool(config.postgres, 'fulfillment', logger);
  const rabbitmq = connectRabbitMQ(config.rabbitmqUrl, 'fulfillment', logger);
  const faults = new FaultRegistry(new Set(['slow_queries', 'consumer_paused']), logger);
  const consumer = new OrderConsumer(pool, rabbitmq, config, faults, logger);

  // HTTP only for health, metrics and fault injection: the work arrives over RabbitMQ.
  const { app, lifecycle } = createServiceApp({
    http: config.http,
    logger,
    faults,
    checks: [postgresCheck(pool), rabbitmqCheck(rabbitmq, true)],
    mount: () => undefined,
  });
  await serve(app, {
    ...config.http,
    logger,
    lifecycle,
    onShutdown: [() => consumer.stop(), () => rabbitmq.close(), () => pool.end()],
  });
});
