/** One service of the shop, as every way of running the stack needs to know it. */
export interface ServiceSpec {
  /** Folder under instrumented-services/, package `@lookout/<name>`, service.name, compose service and scrape job. */
  readonly name: string;
  readonly description: string;
  /** Default HTTP port (`/healthz`, its API, and `/readyz`, `/metrics`, `/admin` unless `managementPort`); `<NAME>_PORT` overrides it natively. */
  readonly port: number;
  /** Its Postgres database (DATABASE_URL). */
  readonly postgres?: { readonly database: string };
  /** Uses Redis (REDIS_URL). */
  readonly redis?: boolean;
  /** Uses RabbitMQ (RABBITMQ_URL). */
  readonly rabbitmq?: boolean;
  /** Services it calls over HTTP, each reached through `<NAME>_URL`. */
  readonly calls: readonly string[];
  /** Services that must be ready before it starts, beyond the ones it calls. */
  readonly startsAfter?: readonly string[];
  /**
   * Reachable from outside the deployment (compose publishes its port, on BIND_ADDRESS): the public edge only.
   * Every other service is reached through it, never around it.
   */
  readonly public?: boolean;
  /**
   * Port of its management listener (MANAGEMENT_PORT): /metrics, /readyz and /admin answer there and not on `port`,
   * which keeps /healthz and the API. For public services, whose `port` the outside reaches; never published.
   * `<NAME>_MANAGEMENT_PORT` overrides it natively.
   */
  readonly managementPort?: number;
  /** Settings of its own that every deployment sets. */
  readonly env?: Readonly<Record<string, string>>;
}
