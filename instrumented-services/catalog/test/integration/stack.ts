import path from 'node:path';
import { fetchJson, OtlpSink, PostgresServer, RedisServer, scrape, ServiceProcess, sumOf, type JsonAnswer } from '@lookout/testkit';
import pg from 'pg';

export const CATALOG_MAIN = path.resolve(__dirname, '../../src/main.js');

/** Real Postgres and Redis on free loopback ports, an OTLP sink, and the catalog started as users start it. */
export class CatalogStack {
  readonly services: ServiceProcess[] = [];

  private constructor(
    readonly postgres: PostgresServer,
    readonly redis: RedisServer,
    readonly sink: OtlpSink,
    readonly db: pg.Pool,
  ) {}

  static async start(): Promise<CatalogStack> {
    const [postgres, redis, sink] = await Promise.all([PostgresServer.create(), RedisServer.create(), OtlpSink.start()]);
    const db = new pg.Pool({ connectionString: postgres.url(), max: 2 });
    db.on('error', () => undefined);
    return new CatalogStack(postgres, redis, sink, db);
  }

  async startCatalog(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = await ServiceProcess.start(CATALOG_MAIN, {
      DATABASE_URL: this.postgres.url(),
      REDIS_URL: this.redis.url,
      PG_CONNECT_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'info',
      ...this.sink.env,
      ...env,
    });
    this.services.push(service);
    return service;
  }

  async productCount(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM products');
    return rows[0]?.n ?? 0;
  }

  async stop(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
    await this.db.end();
    await Promise.all([this.postgres.destroy(), this.redis.destroy(), this.sink.stop()]);
  }
}

/** A counter or histogram count on the service's own /metrics. */
export async function metric(service: ServiceProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumOf(await scrape(service.baseUrl), name, labels);
}

export const dbQueries = (service: ServiceProcess, operation: string) =>
  metric(service, 'db_client_operation_duration_seconds_count', { db_operation_name: operation });

export const cacheResults = async (service: ServiceProcess) => {
  const samples = await scrape(service.baseUrl);
  return {
    hit: sumOf(samples, 'cache_requests_total', { cache_name: 'product', result: 'hit' }),
    miss: sumOf(samples, 'cache_requests_total', { cache_name: 'product', result: 'miss' }),
    error: sumOf(samples, 'cache_requests_total', { cache_name: 'product', result: 'error' }),
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
