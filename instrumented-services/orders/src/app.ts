import {
  classifyPgError,
  faultAdminRoutes,
  notFoundHandler,
  problemErrorHandler,
  requireJsonBody,
  type FaultRegistry,
} from '@lookout/service-kit';
import { instrumentApp, type DependencyCheck, type Lifecycle, type Logger } from '@lookout/telemetry';
import express from 'express';
import type { CatalogClient } from './catalog-client.js';
import type { OrdersRepository } from './orders-repo.js';
import { orderRoutes } from './routes.js';

export interface OrdersDeps {
  repo: OrdersRepository;
  catalog: CatalogClient;
  onCreated: () => void;
  faults: FaultRegistry;
  adminToken: string | undefined;
  checks: DependencyCheck[];
  logger: Logger;
  bodyLimitBytes: number;
}

export function createApp(deps: OrdersDeps): { app: express.Application; lifecycle: Lifecycle } {
  const app = express();
  const lifecycle = instrumentApp(app, { checks: deps.checks });
  app.use(requireJsonBody());
  app.use(express.json({ limit: deps.bodyLimitBytes, strict: true }));
  app.use(faultAdminRoutes(deps.faults, deps.adminToken));
  app.use(deps.faults.httpFaults());
  app.use(orderRoutes({ repo: deps.repo, catalog: deps.catalog, onCreated: deps.onCreated, logger: deps.logger }));
  app.use(notFoundHandler());
  app.use(problemErrorHandler({ logger: deps.logger, classify: classifyPgError }));
  return { app, lifecycle };
}
