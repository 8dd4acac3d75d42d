import { inTransaction, timeDbOperation, withClient } from '@lookout/clients';
import { HttpProblem, withinDeadline } from '@lookout/http-kit';
import { topology, type OrderCreatedEvent, type OrderItem } from '@lookout/shop-contracts';
import type { TraceCarrier } from '@lookout/telemetry';
import type pg from 'pg';

export type { OrderItem };


export interface Order {
  id: number;
  status: 'pending' | 'confirmed' | 'failed';
  customerEmail: string;
  totalCents: number;
  currency: string;
  items: OrderItem[];
  createdAt: string;
  updatedAt: string;
}

export interface NewOrder {
  clientId: string;
  idempotencyKey: string;
  /** Hash of the canonical request body: the same key with another body is refused. */
  requestHash: string;
  customerEmail: string;
  currency: string;
  items: OrderItem[];
  /** Trace context of the request, stored with the outbox row so the event continues the request's trace. */
  trace: TraceCarrier;
}


interface OrderRow {
  id: number;
  status: Order['status'];
  customer_email: string;
  total_cents: number;
  currency: string;
  created_at: Date;
  updated_at: Date;
}

/** The order if it exists and belongs to `clientId`; null otherwise, so that another client's order reads as missing. */
async function readOrder(db: pg.Pool | pg.PoolClient, id: number, clientId: string): Promise<Order | null> {
  const orders = await db.query<OrderRow>(
    `SELECT id, status, customer_email, total_cents, currency, created_at, updated_at FROM orders
      WHERE id = $1 AND client_id = $2`,
    [id, clientId],
  );
  const row = orders.rows[0];
  if (row === undefined) return null;
  const items = await db.query<{ product_id: number; quantity: number; unit_price_cents: number }>(
    'SELECT product_id, quantity, unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY product_id',
    [id],
  );
  return {
    id: row.id,
    status: row.status,
    customerEmail: row.customer_email,
    totalCents: row.total_cents,
    currency: row.currency,
    items: items.rows.map((i) => ({ productId: i.product_id, quantity: i.quantity, unitPriceCents: i.unit_price_cents })),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export class OrdersRepository {
  constructor(
    private readonly pool: pg.Pool,
    private readonly beforeQuery: () => Promise<void> = () => Promise.resolve(),
  ) {}

  /** The order `id` placed by `clientId`, or null (also when another client placed it). */
  get(id: number, clientId: string): Promise<Order | null> {
    return timeDbOperation('orders.get', async () => {
      // The hook runs on a checked-out connection, so that a slow statement holds it as a real one would, and ends
      // at the request's deadline as a real one would (query_timeout).
      return withClient(this.pool, async (client) => {
        await withinDeadline(this.beforeQuery(), 'postgres-query');
        return readOrder(client, id, clientId);
      });
    });
  }

  /**
   * Creates the order, its items and its outbox event in one transaction, under the client's idempotency key.
   * The key row is inserted first: a concurrent request with the same key blocks on it until this transaction
   * ends, then sees the stored order and replays it instead of creating a second one.
   */
  create(order: NewOrder): Promise<{ order: Order; replayed: boolean }> {
    return timeDbOperation('orders.create', async () => {
      return inTransaction(this.pool, async (client) => {
        await withinDeadline(this.beforeQuery(), 'postgres-query');
        const claimed = await client.query(
          `INSERT INTO idempotency_keys (client_id, key, request_hash) VALUES ($1, $2, $3)
           ON CONFLICT (client_id, key) DO NOTHING RETURNING key`,
          [order.clientId, order.idempotencyKey, order.requestHash],
        );
        if (claimed.rowCount === 0) {
          const existing = await client.query<{ request_hash: string; order_id: number }>(
            'SELECT request_hash, order_id FROM idempotency_keys WHERE client_id = $1 AND key = $2',
            [order.clientId, order.idempotencyKey],
          );
          const row = existing.rows[0];
          if (row?.request_hash !== order.requestHash) {
            throw new HttpProblem({
              status: 422,
              type: 'idempotency-key-reused',
              title: 'Idempotency key reused',
              detail: 'This Idempotency-Key was already used with a different request body.',
            });
          }
          const previous = await readOrder(client, row.order_id, order.clientId);
          if (previous === null) throw new Error(`idempotency key points at missing order ${row.order_id}`);
          return { order: previous, replayed: true };
        }
        const totalCents = order.items.reduce((sum, i) => sum + i.unitPriceCents * i.quantity, 0);
        const inserted = await client.query<{ id: number }>(
          `INSERT INTO orders (client_id, customer_email, total_cents, currency) VALUES ($1, $2, $3, $4) RETURNING id`,
          [order.clientId, order.customerEmail, totalCents, order.currency],
        );
        const id = (inserted.rows[0] as { id: number }).id;
        await client.query(
          `INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
           SELECT $1, * FROM unnest($2::bigint[], $3::int[], $4::int[])`,
          [id, order.items.map((i) => i.productId), order.items.map((i) => i.quantity), order.items.map((i) => i.unitPriceCents)],
        );
        await client.query('UPDATE idempotency_keys SET order_id = $3 WHERE client_id = $1 AND key = $2', [
          order.clientId,
          order.idempotencyKey,
          id,
        ]);
        const created = (await readOrder(client, id, order.clientId)) as Order;
        const event: OrderCreatedEvent = {
          orderId: id,
          customerEmail: created.customerEmail,
          totalCents: created.totalCents,
          currency: created.currency,
          items: created.items,
          createdAt: created.createdAt,
        };
        await client.query('INSERT INTO outbox (routing_key, payload, headers) VALUES ($1, $2, $3)', [
          topology.routingKey,
          JSON.stringify(event),
          JSON.stringify(order.trace),
        ]);
        return { order: created, replayed: false };
      });
    });
  }
}
