import { z } from 'zod';

export const orderIdParams = z.object({
  id: z.string().regex(/^[1-9]\d{0,14}$/, 'must be a positive integer of at most 15 digits').transform(Number),
});

export const MAX_ITEMS = 20;

export const orderBody = z.strictObject({
  customerEmail: z.email('must be an e-mail address').max(254),
  items: z
    .array(
      z.strictObject({
        productId: z.number().int().min(1).max(999_999_999_999_999),
        quantity: z.number().int().min(1).max(100),
      }),
    )
    .min(1, 'must list at least one item')
    .max(MAX_ITEMS, `must list at most ${MAX_ITEMS} items`)
    .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'must not list a product twice'),
});

export type OrderRequest = z.infer<typeof orderBody>;

// The client the gateway authenticated: orders belong to it, and idempotency keys are scoped by it.
export const clientHeaders = z.object({
  'lookout-client-id': z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).default('anonymous'),
});

// RFC draft "The Idempotency-Key HTTP Header Field": an opaque string; we accept visible ASCII up to 255 characters.
export const idempotencyHeaders = clientHeaders.extend({
  'idempotency-key': z
    .string({ error: 'the Idempotency-Key header is required' })
    .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters'),
});
