import { text, validate } from '@lookout/http-kit';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { principalOf, requireScope } from './auth.js';
import type { Upstream } from './upstream.js';

const idParams = z.object({ id: z.string().regex(/^[1-9]\d{0,14}$/, 'must be a positive integer of at most 15 digits') });
// Refused here as well as in the catalog: a NUL or undecodable byte is the client's mistake at the edge, and is
// not worth an upstream call.
const searchParams = z.object({
  q: text().max(200).optional(),
  category: text().max(100).optional(),
  page: text().max(12).optional(),
  limit: text().max(12).optional(),
});
const orderHeaders = z.object({
  'idempotency-key': z.string({ error: 'the Idempotency-Key header is required' }).regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters'),
});

/** Only the search parameters the catalog knows travel upstream; values are validated there. */
function searchQuery(req: Request): string {
  const query = validate(searchParams, req.query, 'query');
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) params.set(key, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The public API under /api: products to the catalog, orders to the orders service. */
export function apiRoutes(upstreams: { catalog: Upstream; orders: Upstream }): Router {
  const router = Router();
  const client = (res: Parameters<typeof principalOf>[0]) => ({ 'lookout-client-id': principalOf(res).id });

  router.get('/products', requireScope('read'), async (req, res) => {
    await upstreams.catalog.forward(req, res, `/products${searchQuery(req)}`, client(res), '/api');
  });
  router.get('/products/:id', requireScope('read'), async (req, res) => {
    const { id } = validate(idParams, req.params, 'path');
    await upstreams.catalog.forward(req, res, `/products/${id}`, client(res), '/api');
  });
  router.post('/products', requireScope('write'), async (req, res) => {
    await upstreams.catalog.forward(req, res, '/products', client(res), '/api');
  });
  router.put('/products/:id', requireScope('write'), async (req, res) => {
    const { id } = validate(idParams, req.params, 'path');
    await upstreams.catalog.forward(req, res, `/products/${id}`, client(res), '/api');
  });
  router.post('/orders', requireScope('write'), async (req, res) => {
    validate(orderHeaders, req.headers, 'header');
    await upstreams.orders.forward(req, res, '/orders', client(res), '/api');
  });
  router.get('/orders/:id', requireScope('read'), async (req, res) => {
    const { id } = validate(idParams, req.params, 'path');
    await upstreams.orders.forward(req, res, `/orders/${id}`, client(res), '/api');
  });
  return router;
}
