import { z } from 'zod';

/** One line of an order as it travels in events. */
export const orderItem = z.object({
  productId: z.number().int().positive(),
  quantity: z.number().int().positive(),
  unitPriceCents: z.number().int().nonnegative(),
});

/**
 * The event orders publishes (through its outbox) for each accepted order and fulfillment consumes. The one
 * definition: orders builds it with this type, fulfillment parses it with this schema.
 */
export const orderCreatedEvent = z.object({
  orderId: z.number().int().positive(),
  customerEmail: z.string(),
  totalCents: z.number().int().nonnegative(),
  currency: z.string(),
  items: z.array(orderItem).min(1),
  createdAt: z.string(),
});

export type OrderItem = z.infer<typeof orderItem>;
export type OrderCreatedEvent = z.infer<typeof orderCreatedEvent>;
