import { isUniqueViolation } from '@lookout/clients';
import { HttpProblem, problems, validate, type FaultRegistry } from '@lookout/http-kit';
import type { ShopFault } from '@lookout/shop-contracts';
import type { Logger } from '@lookout/telemetry';
import { Router } from 'express';
import type { CacheAside } from './cache.js';
import type { Product, ProductsRepository } from './products-repo.js';
import { productBody, productIdParams, searchQuery } from './schemas.js';

function skuConflict(sku: string, cause: unknown): HttpProblem {
  return new HttpProblem({
    status: 409,
    type: 'sku-conflict',
    title: 'Conflict',
    detail: `Another product already has SKU ${sku}.`,
    cause,
  });
}

/** /products: lookups through the cache, search straight from Postgres, writes that invalidate the cache. */
export function productRoutes(deps: {
  repo: ProductsRepository;
  cache: CacheAside<Product>;
  faults: FaultRegistry<ShopFault>;
  logger: Logger;
}): Router {
  const { repo, cache, faults, logger } = deps;
  const router = Router();

  router.get('/products/:id', async (req, res) => {
    const { id } = validate(productIdParams, req.params, 'path');
    const load = () => repo.getById(id);
    const product = faults.get('cache_bypass') === undefined ? await cache.get(String(id), load) : await load();
    if (product === null) throw problems.notFound(`Product ${id} does not exist.`);
    res.json(product);
  });

  router.get('/products', async (req, res) => {
    const query = validate(searchQuery, req.query, 'query');
    res.json(await repo.search({ q: query.q, category: query.category, page: query.page, limit: query.limit }));
  });

  router.post('/products', async (req, res) => {
    const input = validate(productBody, req.body, 'body');
    try {
      const product = await repo.create(input);
      // A read of this id before it existed may have cached "not found".
      await cache.invalidate(String(product.id));
      logger.info('product created', { product_id: product.id, sku: product.sku });
      res.status(201).location(`${req.baseUrl}/products/${product.id}`).json(product);
    } catch (err) {
      if (isUniqueViolation(err, 'products_sku_key')) throw skuConflict(input.sku, err);
      throw err;
    }
  });

  router.put('/products/:id', async (req, res) => {
    const { id } = validate(productIdParams, req.params, 'path');
    const input = validate(productBody, req.body, 'body');
    let product: Product | null;
    try {
      product = await repo.replace(id, input);
    } catch (err) {
      if (isUniqueViolation(err, 'products_sku_key')) throw skuConflict(input.sku, err);
      throw err;
    }
    if (product === null) throw problems.notFound(`Product ${id} does not exist.`);
    await cache.invalidate(String(id));
    logger.info('product updated', { product_id: id, sku: product.sku });
    res.json(product);
  });

  return router;
}
