import { metrics } from '@lookout/telemetry/contract';
import { fetchJson, scrape, ShopStack, sumOf, type JsonAnswer, type ServiceProcess } from '@lookout/testkit';

/** Postgres, Redis, an OTLP sink and the catalog, from the stack model (with the seed the API tests count on). */
export async function catalogStack(env: Record<string, string> = {}): Promise<{ stack: ShopStack; catalog: ServiceProcess }> {
  const stack = await ShopStack.start({ start: ['catalog'], env: { catalog: { SEED_PRODUCTS: '10000', ...env } } });
  return { stack, catalog: stack.service('catalog') };
}

export async function productCount(stack: ShopStack): Promise<number> {
  const { rows } = await stack.database('catalog').query<{ n: number }>('SELECT count(*)::int AS n FROM products');
  return rows[0]?.n ?? 0;
}

/** A counter or histogram count on the service's own /metrics. */
export async function metric(service: ServiceProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumOf(await scrape(service.baseUrl), name, labels);
}

export const dbQueries = (service: ServiceProcess, operation: string) =>
  metric(service, `${metrics.dbClientOperationDuration.name}_count`, { db_operation_name: operation });

export const cacheResults = async (service: ServiceProcess) => {
  const samples = await scrape(service.baseUrl);
  return {
    hit: sumOf(samples, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'hit' }),
    miss: sumOf(samples, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'miss' }),
    error: sumOf(samples, metrics.cacheRequests.name, { cache_name: 'product', cache_result: 'error' }),
  };
};

export function request(service: ServiceProcess, pathname: string, init: RequestInit = {}): Promise<JsonAnswer> {
  return fetchJson(`${service.baseUrl}${pathname}`, init);
}

export const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** The writable fields of a product as read from the API, for a PUT that changes some of them. */
export function editable(product: Record<string, unknown>): Record<string, unknown> {
  const fields = { ...product };
  for (const key of ['id', 'createdAt', 'updatedAt']) Reflect.deleteProperty(fields, key);
  return fields;
}
