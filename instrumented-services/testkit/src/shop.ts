import path from 'node:path';
import { infraOf, service, serviceEnvironment, startOrder, type Infra, type Wiring } from '@lookout/stack';
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

/** Settings that make tests quick, on top of the wiring every deployment gets from the stack model. */
const TEST_TUNING: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  catalog: { SEED_PRODUCTS: '1000' },
  orders: { OUTBOX_POLL_INTERVAL_MS: '200' },
  fulfillment: { RETRY_BASE_DELAY_MS: '50' },
  // Tests are one client (the demo keys) sending thousands of requests a minute.
  gateway: { RATE_LIMIT_REQUESTS: '1000000' },
};

/**
 * Services of the stack model on real servers: the PostgreSQL cluster (with the model's databases), Redis and
 * RabbitMQ that the started services use (and only those), an OTLP sink, and each service as a process, wired
 * as the model says, on free loopback ports. `start: ['catalog']` runs Postgres, Redis and the catalog alone.
 */
export class ShopStack {
  readonly services = new Map<string, ServiceProcess>();
  readonly env = new Map<string, Record<string, string>>();
  /** Every process started, including ones a restart replaced in `services`: all are stopped at the end. */
  private readonly started: ServiceProcess[] = [];
  private readonly pools = new Map<string, pg.Pool>();

  private constructor(
    private readonly infra: { postgres?: PostgresServer; redis?: RedisServer; rabbitmq?: RabbitMQServer },
    readonly sink: OtlpSink,
  ) {}

  static async start(
    options: { start?: readonly string[]; env?: Partial<Record<string, Record<string, string>>> } = {},
  ): Promise<ShopStack> {
    const names = options.start ?? ['catalog', 'orders', 'fulfillment', 'gateway'];
    const needed = new Set<Infra>(startOrder(names).flatMap(infraOf));
    const [postgres, redis, rabbitmq, sink] = await Promise.all([
      needed.has('postgres') ? PostgresServer.create() : undefined,
      needed.has('redis') ? RedisServer.create() : undefined,
      needed.has('rabbitmq') ? RabbitMQServer.create() : undefined,
      OtlpSink.start(),
    ]);
    const stack = new ShopStack({ ...(postgres && { postgres }), ...(redis && { redis }), ...(rabbitmq && { rabbitmq }) }, sink);
    if (postgres !== undefined) {
      const admin = new pg.Client({ connectionString: postgres.url() });
      await admin.connect();
      for (const db of new Set(startOrder(names).flatMap((s) => (s.postgres ? [s.postgres.database] : [])))) {
        await admin.query(`CREATE DATABASE "${db}"`);
      }
      await admin.end();
    }
    for (const name of names) await stack.startService(name, options.env?.[name] ?? {});
    return stack;
  }

  get postgres(): PostgresServer {
    return ShopStack.need(this.infra.postgres, 'postgres');
  }
  get redis(): RedisServer {
    return ShopStack.need(this.infra.redis, 'redis');
  }
  get rabbitmq(): RabbitMQServer {
    return ShopStack.need(this.infra.rabbitmq, 'rabbitmq');
  }

  private static need<T>(server: T | undefined, name: string): T {
    if (server === undefined) throw new Error(`${name} is not part of this stack: start a service that uses it`);
    return server;
  }

  /** A small pool on one of the stack's databases, for assertions on what the services wrote. */
  database(name: string): pg.Pool {
    let pool = this.pools.get(name);
    if (pool === undefined) {
      pool = new pg.Pool({ connectionString: this.postgres.url(name), max: 2 });
      pool.on('error', () => undefined);
      this.pools.set(name, pool);
    }
    return pool;
  }

  service(name: string): ServiceProcess {
    const service = this.services.get(name);
    if (service === undefined) throw new Error(`${name} is not running`);
    return service;
  }

  private baseEnv(name: string): Record<string, string> {
    const spec = service(name);
    const wiring: Wiring = {
      environment: 'test',
      host: '127.0.0.1',
      otlpEndpoint: this.sink.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '',
      demo: 'true',
      adminToken: ADMIN_TOKEN,
      inboundTraceContext: 'link',
      port: () => 0,
      // 0: ServiceProcess picks a free port, as for PORT.
      managementPort: () => 0,
      managementHost: '127.0.0.1',
      postgresUrl: (db) => this.postgres.url(db),
      redisUrl: spec.redis === true ? this.redis.url : '',
      rabbitmqUrl: spec.rabbitmq === true ? this.rabbitmq.url : '',
      serviceUrl: (callee) => this.services.get(callee)?.baseUrl ?? 'http://127.0.0.1:9',
    };
    const env = serviceEnvironment(spec, wiring);
    // The harness picks a free port per process.
    Reflect.deleteProperty(env, 'PORT');
    return { ...env, ...this.sink.env, PG_CONNECT_TIMEOUT_MS: '1000', ...TEST_TUNING[name] };
  }

  /**
   * Starts a service (another instance, or a restart after `stop()`); `env` adds to and overrides the wiring, and
   * is remembered for later starts of the same service.
   */
  async startService(name: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const merged = { ...this.baseEnv(name), ...(this.env.get(name) ?? {}), ...env };
    this.env.set(name, { ...(this.env.get(name) ?? {}), ...env });
    const service = await ServiceProcess.start(serviceEntry(name), merged);
    this.services.set(name, service);
    this.started.push(service);
    return service;
  }

  async stop(): Promise<void> {
    await Promise.all(this.started.map((s) => s.stop()));
    await Promise.all([...this.pools.values()].map((p) => p.end()));
    await Promise.all([this.infra.postgres?.destroy(), this.infra.redis?.destroy(), this.infra.rabbitmq?.destroy(), this.sink.stop()]);
  }
}
