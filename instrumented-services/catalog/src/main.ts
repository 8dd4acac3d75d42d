import path from 'node:path';
import { createPgPool, createRedis, postgresCheck, redisCheck, runMigrations } from '@lookout/clients';
import { FaultRegistry, runService, serve } from '@lookout/http-kit';
import { shopFaultSpec, SUPPORTED_FAULTS, waitOutSlowQueries } from '@lookout/shop-contracts';
import { createLogger } from '@lookout/telemetry';
import { createApp } from './app.js';
import { CacheAside } from './cache.js';
import { loadConfig } from './config.js';
import { ProductsRepository, type Product } from './products-repo.js';
import { seedProducts } from './seed.js';

runService('catalog', async () => {
  const logger = createLogger();
  const config = loadConfig();

  const pool = createPgPool(config.postgres, 'catalog', logger);
  const redis = createRedis(config.redis, 'catalog', logger);
  const faults = new FaultRegistry(shopFaultSpec, SUPPORTED_FAULTS.catalog, logger);
  if (config.postgres.migrateOnStart) {
    await runMigrations({ databaseUrl: config.postgres.url, dir: path.resolve(__dirname, '../../migrations'), table: 'pgmigrations' }, logger);
  }
  await seedProducts(pool, config.postgres.seedProducts, logger);

  const { app, lifecycle, management } = createApp({
    http: config.http,
    repo: new ProductsRepository(pool, () => waitOutSlowQueries(faults)),
    cache: new CacheAside<Product>(redis, { name: 'product', ...config.cache }, logger),
    faults,
    logger,
    checks: [postgresCheck(config.postgres, 'catalog'), redisCheck(redis, false)],
  });
  await serve(app, { ...config.http, management, logger, lifecycle, onShutdown: [() => pool.end(), () => redis.quit()] });
});
