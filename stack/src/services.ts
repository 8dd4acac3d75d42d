import type { ServiceSpec } from './spec.js';

/**
 * The shop's services: the one place their ports, dependencies and databases are written. The native stack, the
 * test harness, docker-compose.yml (generated: `npm run gen`) and the collector's scrape targets all derive from
 * this list. `npm run new-service -- NAME` appends to it.
 */
export const SERVICES: readonly ServiceSpec[] = [
  {
    name: 'catalog',
    description: 'products in Postgres behind a Redis cache-aside',
    port: 8081,
    postgres: { database: 'catalog' },
    redis: true,
    calls: [],
  },
  {
    name: 'orders',
    description: 'orders with idempotency keys, a transactional outbox relayed to RabbitMQ',
    port: 8082,
    postgres: { database: 'orders' },
    rabbitmq: true,
    calls: ['catalog'],
  },
  {
    name: 'fulfillment',
    description: 'worker: consumes order events, batched updates, retries, dead-letter queue',
    port: 8083,
    // Shares the orders database, whose schema the orders service migrates: it starts after orders.
    postgres: { database: 'orders' },
    rabbitmq: true,
    calls: [],
    startsAfter: ['orders'],
  },
  {
    name: 'gateway',
    description: 'the public edge: API keys or JWT, per-client rate limiting in Redis, routing to catalog and orders',
    port: 8080,
    public: true,
    // Prometheus's exporter range, clear of every port of both stacks; compose does not publish it.
    managementPort: 9180,
    redis: true,
    calls: ['catalog', 'orders'],
  },
  {
    name: 'alert-receiver',
    description: 'receives Alertmanager webhook notifications and writes each alert as a structured log line: the local pager of both stacks',
    port: 8090,
    calls: [],
    // A notification carries up to max_alerts (100) alerts with their labels and annotations.
    env: { BODY_LIMIT_BYTES: '1048576' },
  },
  // new services are added above this line by `npm run new-service`
];
