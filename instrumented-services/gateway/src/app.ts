import { faultAdminRoutes, notFoundHandler, problemErrorHandler, requireJsonBody, type FaultRegistry } from '@lookout/service-kit';
import { instrumentApp, type DependencyCheck, type Lifecycle, type Logger } from '@lookout/telemetry';
import express, { type RequestHandler } from 'express';
import { authenticate } from './auth.js';
import type { GatewayConfig } from './config.js';
import { apiRoutes } from './routes.js';
import type { Upstream } from './upstream.js';

export interface GatewayDeps {
  auth: GatewayConfig['auth'];
  rateLimit: RequestHandler;
  upstreams: { catalog: Upstream; orders: Upstream };
  faults: FaultRegistry;
  adminToken: string | undefined;
  checks: DependencyCheck[];
  logger: Logger;
  bodyLimitBytes: number;
}

/** The edge: telemetry endpoints, then authentication, rate limiting, validation and the routed API. */
export function createApp(deps: GatewayDeps): { app: express.Application; lifecycle: Lifecycle } {
  const app = express();
  const lifecycle = instrumentApp(app, { checks: deps.checks });
  app.use(requireJsonBody());
  app.use(express.json({ limit: deps.bodyLimitBytes, strict: true }));
  app.use(faultAdminRoutes(deps.faults, deps.adminToken));
  app.use(deps.faults.httpFaults());
  app.use('/api', authenticate(deps.auth), deps.rateLimit, apiRoutes(deps.upstreams));
  app.use(notFoundHandler());
  app.use(problemErrorHandler({ logger: deps.logger }));
  return { app, lifecycle };
}
