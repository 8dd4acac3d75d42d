import { classifyPgError } from '@lookout/clients';
import { createServiceApp, type DependencyCheck, type FaultRegistry, type ServiceSettings } from '@lookout/http-kit';
import type { ShopFault } from '@lookout/shop-contracts';
import type { Logger } from '@lookout/telemetry';
import type { CatalogClient } from './catalog-client.js';
import type { OrdersRepository } from './orders-repo.js';
import { orderRoutes } from './routes.js';

/** The orders service's HTTP application. */
export function createApp(deps: {
  http: ServiceSettings;
  repo: OrdersRepository;
  catalog: CatalogClient;
  onCreated: () => void;
  faults: FaultRegistry<ShopFault>;
  checks: DependencyCheck[];
  logger: Logger;
}) {
  return createServiceApp({
    ...deps,
    classify: classifyPgError,
    mount: (app) => app.use(orderRoutes(deps)),
  });
}
