import { connectRabbitMQ, createPgPool, FaultRegistry, faultAdminRoutes, notFoundHandler, problemErrorHandler } from '@lookout/service-kit';
import { createLogger, instrumentApp, serve } from '@lookout/telemetry';
import express from 'express';
import { loadConfig } from './config.js';
import { OrderConsumer } from './consumer.js';

async function main(): Promise<void> {
  const logger = createLogger();
  const config = loadConfig();

  const pool = createPgPool(config.postgres, 'fulfillment', logger);
  const rabbitmq = connectRabbitMQ(config.rabbitmqUrl, 'fulfillment', logger);
  const faults = new FaultRegistry(new Set(['slow_queries', 'consumer_paused']), logger);
  const consumer = new OrderConsumer(pool, rabbitmq, config, faults, logger);

  // HTTP only for health, metrics and fault injection: the work arrives over RabbitMQ.
  const app = express();
  const lifecycle = instrumentApp(app, {
    checks: [
      { name: 'postgres', critical: true, check: () => pool.query('SELECT 1') },
      {
        name: 'rabbitmq',
        critical: true,
        check: () => (rabbitmq.isConnected() ? Promise.resolve() : Promise.reject(new Error('not connected'))),
      },
    ],
  });
  app.use(express.json({ limit: config.bodyLimitBytes }));
  app.use(faultAdminRoutes(faults, config.adminToken));
  app.use(notFoundHandler());
  app.use(problemErrorHandler({ logger }));

  await serve(app, {
    port: config.port,
    host: config.host,
    logger,
    lifecycle,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    onShutdown: [() => consumer.stop(), () => rabbitmq.close(), () => pool.end()],
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`fulfillment failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
