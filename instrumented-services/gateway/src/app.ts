import { createServiceApp, type DependencyCheck, type FaultRegistry, type ServiceSettings } from '@lookout/http-kit';
import type { ShopFault } from '@lookout/shop-contracts';
import type { Logger } from '@lookout/telemetry';
import type { RequestHandler } from 'express';
import { authenticate } from './auth.js';
import type { GatewayConfig } from './config.js';
import { apiRoutes } from './routes.js';
import type { Upstream } from './upstream.js';

/** The edge: a per-address limit on everything, then authentication, a per-client limit and validation in front of the routed API under /api. */
export function createApp(deps: {
  http: ServiceSettings;
  auth: GatewayConfig['auth'];
  /** Before anything else, per client address. */
  addressRateLimit: RequestHandler;
  /** After authentication, per client. */
  clientRateLimit: RequestHandler;
  upstreams: { catalog: Upstream; orders: Upstream };
  faults: FaultRegistry<ShopFault>;
  checks: DependencyCheck[];
  logger: Logger;
}) {
  return createServiceApp({
    ...deps,
    before: deps.addressRateLimit,
    // The edge: a client's request-timeout-ms is not taken; the upstreams get the gateway's own budgets.
    edge: true,
    mount: (app) => app.use('/api', authenticate(deps.auth), deps.clientRateLimit, apiRoutes(deps.upstreams)),
  });
}
