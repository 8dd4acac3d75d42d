import path from 'node:path';
import pg from 'pg';
import { OtlpSink } from './otlp-sink.js';
import { PostgresServer } from './postgres.js';
import { RabbitMQServer } from './rabbitmq.js';
import { RedisServer } from './redis.js';
import { ServiceProcess } from './service.js';

const servicesDir = path.resolve(__dirname, '../../..');
export const serviceEntry = (name: string) => path.join(servicesDir, name, 'dist/src/main.js');

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const READ_KEY = 'lookout-demo-read-key';
export const WRITE_KEY = 'lookout-demo-write-key';

export type ShopService = 'catalog' | 'orders' | 'fulfillment' | 'gateway';

/**
 * The whole shop on real servers: one PostgreSQL cluster (databases `catalog` and `orders`), Redis, RabbitMQ, an
 * OTLP sink, and the four services as processes wired to each other on free loopback ports.
 */
export class ShopStack {
  readonly services = new Map<ShopService, ServiceProcess>();
  readonly env = new Map<ShopService, Record<string, string>>();
  /** Every process started, including ones a restart replaced in `services`: all are stopped at the end. */
  private readonly started: ServiceProcess[] = [];

  private constructor(
    readonly postgres: PostgresServer,
    readonly redis: RedisServer,
    readonly rabbitmq: RabbitMQServer,
    readonly sink: OtlpSink,
    readonly ordersDb: pg.Pool,
  ) {}

  static async start(
    options: { start?: readonly ShopService[]; env?: Partial<Record<ShopService, Record<string, string>>> } = {},
  ): Promise<ShopStack> {
    const [postgres, redis, rabbitmq, sink] = await Promise.all([
      PostgresServer.create(),
      RedisServer.create(),
      RabbitMQServer.create(),
      OtlpSink.start(),
    ]);
    const admin = new pg.Client({ connectionString: postgres.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE catalog');
    await admin.query('CREATE DATABASE orders');
    await admin.end();
    const ordersDb = new pg.Pool({ connectionString: postgres.url('orders'), max: 2 });
    ordersDb.on('error', () => undefined);
    const stack = new ShopStack(postgres, redis, rabbitmq, sink, ordersDb);
    for (const name of options.start ?? ['catalog', 'orders', 'fulfillment', 'gateway']) {
      await stack.startService(name, options.env?.[name] ?? {});
    }
    return stack;
  }

  service(name: ShopService): ServiceProcess {
    const service = this.services.get(name);
    if (service === undefined) throw new Error(`${name} is not running`);
    return service;
  }

  private baseEnv(name: ShopService): Record<string, string> {
    const common = { ...this.sink.env, ADMIN_TOKEN, LOG_LEVEL: 'info', PG_CONNECT_TIMEOUT_MS: '1000' };
    const url = (s: ShopService) => this.services.get(s)?.baseUrl ?? 'http://127.0.0.1:9';
    switch (name) {
      case 'catalog':
        return { ...common, DATABASE_URL: this.postgres.url('catalog'), REDIS_URL: this.redis.url, SEED_PRODUCTS: '1000' };
      case 'orders':
        return {
          ...common,
          DATABASE_URL: this.postgres.url('orders'),
          RABBITMQ_URL: this.rabbitmq.url,
          CATALOG_URL: url('catalog'),
          OUTBOX_POLL_INTERVAL_MS: '200',
        };
      case 'fulfillment':
        return { ...common, DATABASE_URL: this.postgres.url('orders'), RABBITMQ_URL: this.rabbitmq.url, RETRY_BASE_DELAY_MS: '50' };
      case 'gateway':
        return { ...common, REDIS_URL: this.redis.url, CATALOG_URL: url('catalog'), ORDERS_URL: url('orders') };
    }
  }

  /** Starts (or restarts) a service; `env` adds to and overrides the wiring. */
  async startService(name: ShopService, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const merged = { ...this.baseEnv(name), ...(this.env.get(name) ?? {}), ...env };
    this.env.set(name, { ...(this.env.get(name) ?? {}), ...env });
    const service = await ServiceProcess.start(serviceEntry(name), merged);
    this.services.set(name, service);
    this.started.push(service);
    return service;
  }

  async stop(): Promise<void> {
    await Promise.all(this.started.map((s) => s.stop()));
    await this.ordersDb.end();
    await Promise.all([this.postgres.destroy(), this.redis.destroy(), this.rabbitmq.destroy(), this.sink.stop()]);
  }
}
