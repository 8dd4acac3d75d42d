import { createRedis, redisCheck } from '@lookout/clients';
import { FaultRegistry, runService, serve } from '@lookout/http-kit';
import { shopFaultSpec, SUPPORTED_FAULTS } from '@lookout/shop-contracts';
import { createLogger } from '@lookout/telemetry';
import { request } from 'undici';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { addressRateLimit, clientRateLimit } from './rate-limit.js';
import { Upstream } from './upstream.js';

runService('gateway', async () => {
  const logger = createLogger();
  const config = loadConfig();

  const redis = createRedis(config.redis, 'gateway', logger);
  const upstreams = {
    catalog: new Upstream('catalog', config.upstreams.catalog, config.upstreamTimeoutMs, config.upstreamRetries),
    orders: new Upstream('orders', config.upstreams.orders, config.upstreamTimeoutMs, config.upstreamRetries),
  };
  const upstreamCheck = (url: string) => async () => {
    const res = await request(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`healthz answered ${res.statusCode}`);
  };
  const { app, lifecycle, management } = createApp({
    http: config.http,
    auth: config.auth,
    addressRateLimit: addressRateLimit(redis, config.rateLimit.address, logger),
    clientRateLimit: clientRateLimit(redis, config.rateLimit.client, logger),
    upstreams,
    faults: new FaultRegistry(shopFaultSpec, SUPPORTED_FAULTS.gateway, logger),
    logger,
    // The gateway answers (502/503/504, or with an in-memory rate limit) whatever is down behind it: none of these
    // makes it unready, all of them show as degraded.
    checks: [
      redisCheck(redis, false),
      { name: 'catalog', critical: false, check: upstreamCheck(config.upstreams.catalog) },
      { name: 'orders', critical: false, check: upstreamCheck(config.upstreams.orders) },
    ],
  });

  await serve(app, {
    ...config.http,
    management,
    logger,
    lifecycle,
    onShutdown: [() => upstreams.catalog.close(), () => upstreams.orders.close(), () => redis.quit()],
  });
});
