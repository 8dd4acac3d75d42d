import { createHash } from 'node:crypto';
import { HttpProblem, problems, validate } from '@lookout/http-kit';
import { captureTraceContext, type Logger } from '@lookout/telemetry';
import { Router } from 'express';
import { unknownProducts, type CatalogClient } from './catalog-client.js';
import type { OrdersRepository } from './orders-repo.js';
import { clientHeaders, idempotencyHeaders, orderBody, orderIdParams, type OrderRequest } from './schemas.js';

/** A stable hash of the validated request: key order and whitespace in the client's JSON do not matter. */
function requestHash(order: OrderRequest): string {
  const canonical = JSON.stringify({
    customerEmail: order.customerEmail.toLowerCase(),
    items: [...order.items].sort((a, b) => a.productId - b.productId).map((i) => [i.productId, i.quantity]),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export function orderRoutes(deps: { repo: OrdersRepository; catalog: CatalogClient; onCreated: () => void; logger: Logger }): Router {
  const { repo, catalog, logger } = deps;
  const router = Router();

  router.post('/orders', async (req, res) => {
    const headers = validate(idempotencyHeaders, req.headers, 'header');
    const body = validate(orderBody, req.body, 'body');
    const products = await Promise.all(body.items.map((item) => catalog.getProduct(item.productId)));
    const missing = body.items.filter((_, i) => products[i] === null).map((i) => i.productId);
    if (missing.length > 0) throw unknownProducts(missing);
    const currencies = new Set(products.map((p) => p?.currency));
    if (currencies.size > 1) {
      throw new HttpProblem({
        status: 422,
        type: 'mixed-currencies',
        title: 'Mixed currencies',
        detail: `The products are priced in different currencies (${[...currencies].join(', ')}).`,
      });
    }
    const { order, replayed } = await repo.create({
      clientId: headers['lookout-client-id'],
      idempotencyKey: headers['idempotency-key'],
      requestHash: requestHash(body),
      customerEmail: body.customerEmail,
      currency: [...currencies][0] ?? 'USD',
      items: body.items.map((item, i) => ({ ...item, unitPriceCents: products[i]?.priceCents ?? 0 })),
      trace: captureTraceContext(),
    });
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    else {
      logger.info('order accepted', { order_id: order.id, total_cents: order.totalCents, items: order.items.length });
      deps.onCreated();
    }
    res.status(201).location(`${req.baseUrl}/orders/${order.id}`).json(order);
  });

  router.get('/orders/:id', async (req, res) => {
    const { id } = validate(orderIdParams, req.params, 'path');
    const headers = validate(clientHeaders, req.headers, 'header');
    const order = await repo.get(id, headers['lookout-client-id']);
    // Another client's order gets the same answer as a missing one: ids cannot be probed.
    if (order === null) throw problems.notFound(`Order ${id} does not exist.`);
    res.json(order);
  });

  return router;
}
