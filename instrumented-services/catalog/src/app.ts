import {
  classifyPgError,
  faultAdminRoutes,
  notFoundHandler,
  problemErrorHandler,
  requireJsonBody,
  type FaultRegistry,
} from '@lookout/service-kit';
import { instrumentApp, type DependencyCheck, type Logger } from '@lookout/telemetry';
import express from 'express';
import type { Lifecycle } from '@lookout/telemetry';
import type { CacheAside } from './cache.js';
import type { Product, ProductsRepository } from './products-repo.js';
import { productRoutes } from './routes.js';

export interface CatalogDeps {
  repo: ProductsRepository;
  cache: CacheAside<Product>;
  faults: FaultRegistry;
  adminToken: string | undefined;
  checks: DependencyCheck[];
  logger: Logger;
  bodyLimitBytes: number;
}

/** The catalog's HTTP application: telemetry endpoints, then the product routes, then problem+json errors. */
export function createApp(deps: CatalogDeps): { app: express.Application; lifecycle: Lifecycle } {
  const app = express();
  const lifecycle = instrumentApp(app, { checks: deps.checks });
  app.use(requireJsonBody());
  app.use(express.json({ limit: deps.bodyLimitBytes, strict: true }));
  app.use(faultAdminRoutes(deps.faults, deps.adminToken));
  app.use(deps.faults.httpFaults());
  app.use(productRoutes({ repo: deps.repo, cache: deps.cache, faults: deps.faults, logger: deps.logger }));
  app.use(notFoundHandler());
  app.use(problemErrorHandler({ logger: deps.logger, classify: classifyPgError }));
  return { app, lifecycle };
}
