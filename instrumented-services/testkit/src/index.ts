export { OtlpSink, toAttributes, type Attributes, type KeyValue, type ReceivedLog, type ReceivedSpan } from './otlp-sink.js';
export { freePort, sleep, waitFor } from './ports.js';
export { PostgresServer } from './postgres.js';
export { RedisServer } from './redis.js';
export { fetchJson, ServiceProcess, type JsonAnswer, type LogLine } from './service.js';
export { anyError, parseMetrics, scrape, sumOf, type LabelMatch, type Sample } from './metrics.js';
export { RabbitMQServer } from './rabbitmq.js';
export { ADMIN_TOKEN, READ_KEY, serviceEntry, ShopStack, WRITE_KEY, type ShopService } from './shop.js';
export { BENCH_RESULTS, runBench, writeBenchResult } from './bench.js';
