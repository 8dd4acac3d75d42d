import { createRedis, FaultRegistry } from '@lookout/service-kit';
import { createLogger, serve } from '@lookout/telemetry';
import { request } from 'undici';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { rateLimit } from './rate-limit.js';
import { Upstream } from './upstream.js';

async function main(): Promise<void> {
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
  const { app, lifecycle } = createApp({
    auth: config.auth,
    rateLimit: rateLimit(redis, config.rateLimit, logger),
    upstreams,
    faults: new FaultRegistry(new Set(['latency', 'errors']), logger),
    adminToken: config.adminToken,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    // The gateway answers (502/503/504, or with an in-memory rate limit) whatever is down behind it: none of these
    // makes it unready, all of them show as degraded.
    checks: [
      { name: 'redis', critical: false, check: () => redis.ping() },
      { name: 'catalog', critical: false, check: upstreamCheck(config.upstreams.catalog) },
      { name: 'orders', critical: false, check: upstreamCheck(config.upstreams.orders) },
    ],
  });

  await serve(app, {
    port: config.port,
    host: config.host,
    logger,
    lifecycle,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    onShutdown: [() => upstreams.catalog.close(), () => upstreams.orders.close(), () => redis.quit()],
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
