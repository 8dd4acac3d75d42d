import { classifyPgError } from '@lookout/clients';
import { createServiceApp, type DependencyCheck, type FaultRegistry, type ServiceSettings } from '@lookout/http-kit';
import type { ShopFault } from '@lookout/shop-contracts';
import type { Logger } from '@lookout/telemetry';
import type { CacheAside } from './cache.js';
import type { Product, ProductsRepository } from './products-repo.js';
import { productRoutes } from './routes.js';

/** The catalog's HTTP application. */
export function createApp(deps: {
  http: ServiceSettings;
  repo: ProductsRepository;
  cache: CacheAside<Product>;
  faults: FaultRegistry<ShopFault>;
  checks: DependencyCheck[];
  logger: Logger;
}) {
  return createServiceApp({
    ...deps,
    classify: classifyPgError,
    mount: (app) => app.use(productRoutes(deps)),
  });
}
