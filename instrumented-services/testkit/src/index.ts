export { asUser, isRoot, run } from './exec.js';
export { OtlpSink, type Attributes, type ReceivedLog, type ReceivedSpan } from './otlp-sink.js';
export { freePort, sleep, tcpReachable, waitFor } from './ports.js';
export { PostgresServer } from './postgres.js';
export { RedisServer } from './redis.js';
export { fetchJson, ServiceProcess, type JsonAnswer, type LogLine } from './service.js';
export { parseMetrics, scrape, sumOf, type Sample } from './metrics.js';
export { RabbitMQServer } from './rabbitmq.js';
export { ADMIN_TOKEN, READ_KEY, serviceEntry, ShopStack, WRITE_KEY, type ShopService } from './shop.js';
