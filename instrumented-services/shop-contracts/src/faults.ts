import { errorsFault, latencyFault, type FaultRegistry } from '@lookout/http-kit';
import { z } from 'zod';

/**
 * Every fault a shop service can be told to inject (POST /admin/faults), for alert drills and failure tests:
 * `latency` and `errors` act on HTTP routes (http-kit); the others where the service does the work.
 */
export const shopFaultSpec = z.discriminatedUnion('name', [
  latencyFault,
  errorsFault,
  z.strictObject({ name: z.literal('slow_queries'), ms: z.number().int().min(1).max(30_000) }),
  z.strictObject({ name: z.literal('cache_bypass') }),
  z.strictObject({ name: z.literal('consumer_paused') }),
  z.strictObject({ name: z.literal('publish_blocked') }),
]);

export type ShopFault = z.infer<typeof shopFaultSpec>;
export type ShopFaultName = ShopFault['name'];

/** Waits out `slow_queries` while it is on: the hook a service runs before each database operation. */
export async function waitOutSlowQueries(faults: FaultRegistry<ShopFault>): Promise<void> {
  const slow = faults.get('slow_queries');
  if (slow !== undefined) await new Promise((resolve) => setTimeout(resolve, slow.ms));
}

/** The faults each service implements; a request for another is refused with 422. */
export const SUPPORTED_FAULTS = {
  gateway: new Set<ShopFaultName>(['latency', 'errors']),
  catalog: new Set<ShopFaultName>(['latency', 'errors', 'slow_queries', 'cache_bypass']),
  orders: new Set<ShopFaultName>(['latency', 'errors', 'slow_queries', 'publish_blocked']),
  fulfillment: new Set<ShopFaultName>(['slow_queries', 'consumer_paused']),
} as const;
