import path from 'node:path';
import { createPgPool, createRedis, FaultRegistry, runMigrations } from '@lookout/service-kit';
import { createLogger, serve } from '@lookout/telemetry';
import { createApp } from './app.js';
import { CacheAside } from './cache.js';
import { loadConfig } from './config.js';
import type { Product } from './products-repo.js';
import { ProductsRepository } from './products-repo.js';
import { seedProducts } from './seed.js';

async function main(): Promise<void> {
  const logger = createLogger();
  const config = loadConfig();

  const pool = createPgPool(config.postgres, 'catalog', logger);
  const redis = createRedis(config.redis, 'catalog', logger);
  const faults = new FaultRegistry(new Set(['latency', 'errors', 'slow_queries', 'cache_bypass']), logger);
  if (config.postgres.migrateOnStart) {
    await runMigrations(
      { databaseUrl: config.postgres.url, dir: path.resolve(__dirname, '../../migrations'), table: 'pgmigrations' },
      logger,
    );
  }
  await seedProducts(pool, config.postgres.seedProducts, logger);

  const cache = new CacheAside<Product>(redis, { name: 'product', ...config.cache }, logger);
  const { app, lifecycle } = createApp({
    repo: new ProductsRepository(pool, () => faults.beforeQuery()),
    cache,
    faults,
    adminToken: config.adminToken,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    checks: [
      { name: 'postgres', critical: true, check: () => pool.query('SELECT 1') },
      { name: 'redis', critical: false, check: () => redis.ping() },
    ],
  });

  await serve(app, {
    port: config.port,
    host: config.host,
    logger,
    lifecycle,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    onShutdown: [() => pool.end(), () => redis.quit()],
  });
}

main().catch((err: unknown) => {
  // Configuration and start-up errors: one clear line on stderr, exit code 1 for the supervisor.
  process.stderr.write(`catalog failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
