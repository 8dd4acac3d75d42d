import { text } from '@lookout/http-kit';
import { z } from 'zod';

// Ids are bigint in Postgres; 15 digits stay exact in a JS number and cover any id we will issue.
export const productIdParams = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,14}$/, 'must be a positive integer of at most 15 digits')
    .transform(Number),
});

const integerParam = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .default(fallback);

export const MAX_LIMIT = 100;
export const MAX_PAGE = 500;

export const searchQuery = z.object({
  // Checked before it reaches Postgres, which fails the query (a 500) on a NUL.
  q: text().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
  category: z
    .string()
    .regex(/^[a-z0-9-]{1,50}$/, 'must be 1-50 lowercase letters, digits or dashes')
    .optional(),
  page: integerParam(1, MAX_PAGE, 1),
  limit: integerParam(1, MAX_LIMIT, 20),
});

export const productBody = z.strictObject({
  sku: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, dots, dashes or underscores'),
  name: text().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  description: text().max(2000, 'must be at most 2000 characters').default(''),
  category: z.string().regex(/^[a-z0-9-]{1,50}$/, 'must be 1-50 lowercase letters, digits or dashes'),
  priceCents: z.number().int().min(0).max(100_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD').default('USD'),
  stock: z.number().int().min(0).max(1_000_000).default(0),
});
