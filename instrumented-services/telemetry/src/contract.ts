/**
 * The telemetry contract: every metric a Lookout service emits, the fields of its access log and the resource
 * attributes on every signal, declared once. Services create their prom-client instruments from these specs
 * (`counter()`, `gauge()`, `histogram()` in metrics.ts); dashboards, alert rules and `docs/telemetry.md` import
 * the names from here; a stack test scrapes every service and fails on a metric that is emitted but not declared
 * here, or declared for a service that never emits it.
 *
 * Names follow the OpenTelemetry semantic conventions in their Prometheus form (dots become underscores, the unit
 * becomes a suffix, counters end in `_total`, `error.type` becomes `error_type`); metrics the conventions do not
 * cover (cache, outbox, the shop's own) use the same style. This module has no dependencies, so build-time code
 * (dashboards, alert rules) imports it as `@lookout/telemetry/contract` without loading the SDK.
 */

/** `all` is every service built on the telemetry package, including one added later with the scaffold. */
export type Emitter = 'all' | 'gateway' | 'catalog' | 'orders' | 'fulfillment';

export type MetricType = 'counter' | 'gauge' | 'histogram';

interface BaseSpec<L extends string> {
  /** The metric's name as scraped (a counter's includes `_total`; a histogram's has no `_bucket`/`_sum`/`_count`). */
  readonly name: string;
  /** UCUM-style unit of the value: `s`, `By`, `1` (a ratio or plain count), `{request}`, … */
  readonly unit: string;
  readonly help: string;
  readonly labels: readonly L[];
  readonly emittedBy: readonly Emitter[];
  /** The semantic-convention instrument this one implements, when there is one. */
  readonly semconv?: string;
  /** Its series exist only while a value is non-zero (libuv requests in flight, say): a scrape may find none. */
  readonly intermittent?: boolean;
}

export interface CounterSpec<L extends string = string> extends BaseSpec<L> {
  readonly type: 'counter';
}
export interface GaugeSpec<L extends string = string> extends BaseSpec<L> {
  readonly type: 'gauge';
}
export interface HistogramSpec<L extends string = string> extends BaseSpec<L> {
  readonly type: 'histogram';
  readonly buckets: readonly number[];
  /** Buckets carry the trace of their last observation as an OpenMetrics exemplar. */
  readonly exemplars: boolean;
}

export type MetricSpec<L extends string = string> = CounterSpec<L> | GaugeSpec<L> | HistogramSpec<L>;

const counter = <L extends string>(spec: Omit<CounterSpec<L>, 'type'>): CounterSpec<L> => ({ type: 'counter', ...spec });
const gauge = <L extends string>(spec: Omit<GaugeSpec<L>, 'type'>): GaugeSpec<L> => ({ type: 'gauge', ...spec });
const histogram = <L extends string>(spec: Omit<HistogramSpec<L>, 'type'>): HistogramSpec<L> => ({ type: 'histogram', ...spec });

/** The semantic conventions' advisory buckets for HTTP and DB durations, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;
const DB_DURATION_BUCKETS = [0.001, 0.0025, ...DURATION_BUCKETS] as const;
/** The semantic conventions' buckets plus the gateway latency SLO's threshold (0.3 s), so the SLI is exact. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

const ALL: readonly Emitter[] = ['all'];
const WITH_POSTGRES: readonly Emitter[] = ['catalog', 'orders', 'fulfillment'];

/** Label values that stand for "none of the known values", as the semantic conventions spell it. */
export const OTHER = '_OTHER';

/** Every metric the services create themselves. */
export const metrics = {
  // --- HTTP server (every service) ---------------------------------------------------------------------------
  httpServerRequestDuration: histogram({
    name: 'http_server_request_duration_seconds',
    unit: 's',
    help: 'Duration of HTTP server requests, by method, route template and status code (probes and scrapes excluded).',
    labels: ['http_request_method', 'http_route', 'http_response_status_code'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    exemplars: true,
    // Every service on http-kit, once it serves a request; fulfillment serves only probes and scrapes.
    emittedBy: ['gateway', 'catalog', 'orders'],
    semconv: 'http.server.request.duration',
  }),

  // --- Database client (services with Postgres) --------------------------------------------------------------
  dbClientOperationDuration: histogram({
    name: 'db_client_operation_duration_seconds',
    unit: 's',
    help: 'Duration of database operations by logical operation name; error_type is the SQLSTATE (or _OTHER) of a failed one, empty on success.',
    labels: ['db_system_name', 'db_operation_name', 'error_type'] as const,
    buckets: DB_DURATION_BUCKETS,
    exemplars: true,
    emittedBy: WITH_POSTGRES,
    semconv: 'db.client.operation.duration',
  }),
  dbClientConnectionCount: gauge({
    name: 'db_client_connection_count',
    unit: '{connection}',
    help: 'Connections open in the pool, by state: idle or used.',
    labels: ['db_client_connection_pool_name', 'db_client_connection_state'] as const,
    emittedBy: WITH_POSTGRES,
    semconv: 'db.client.connection.count',
  }),
  dbClientConnectionMax: gauge({
    name: 'db_client_connection_max',
    unit: '{connection}',
    help: 'Maximum number of connections the pool may open.',
    labels: ['db_client_connection_pool_name'] as const,
    emittedBy: WITH_POSTGRES,
    semconv: 'db.client.connection.max',
  }),
  dbClientConnectionPendingRequests: gauge({
    name: 'db_client_connection_pending_requests',
    unit: '{request}',
    help: 'Requests waiting for a connection from the pool (saturation).',
    labels: ['db_client_connection_pool_name'] as const,
    emittedBy: WITH_POSTGRES,
    semconv: 'db.client.connection.pending_requests',
  }),

  // --- Dependencies (every shop service) ---------------------------------------------------------------------
  dependencyUp: gauge({
    name: 'dependency_up',
    unit: '1',
    help: 'Whether the service reached a dependency at its last background health check (every 10 s, bounded to 1 s): 1 up, 0 down. The same checks as /readyz.',
    labels: ['dependency_name'] as const,
    emittedBy: ['gateway', 'catalog', 'orders', 'fulfillment'],
  }),

  // --- Cache (catalog) ---------------------------------------------------------------------------------------
  cacheRequests: counter({
    name: 'cache_requests_total',
    unit: '{request}',
    help: 'Cache look-ups by result: hit, miss, or error (cache unreachable, answered from the source).',
    labels: ['cache_name', 'cache_result'] as const,
    emittedBy: ['catalog'],
  }),
  cacheCoalescedRequests: counter({
    name: 'cache_coalesced_requests_total',
    unit: '{request}',
    help: 'Cache misses that waited for a load already in flight instead of querying the source themselves.',
    labels: ['cache_name'] as const,
    emittedBy: ['catalog'],
  }),

  // --- Messaging: publishing through the outbox (orders) -----------------------------------------------------
  messagingClientSentMessages: counter({
    name: 'messaging_client_sent_messages_total',
    unit: '{message}',
    help: 'Messages the outbox relay published; error_type is set when the broker did not confirm them (they stay in the outbox).',
    labels: ['messaging_system', 'messaging_destination_name', 'error_type'] as const,
    emittedBy: ['orders'],
    semconv: 'messaging.client.sent.messages',
  }),
  outboxPendingMessages: gauge({
    name: 'outbox_pending_messages',
    unit: '{message}',
    help: 'Outbox events not yet published (absent while Postgres cannot be asked).',
    labels: [] as const,
    emittedBy: ['orders'],
  }),
  outboxLag: gauge({
    name: 'outbox_lag_seconds',
    unit: 's',
    help: 'Age of the oldest outbox event not yet published, 0 when none waits (absent while Postgres cannot be asked).',
    labels: [] as const,
    emittedBy: ['orders'],
  }),

  // --- Messaging: consuming (fulfillment) --------------------------------------------------------------------
  messagingClientConsumedMessages: counter({
    name: 'messaging_client_consumed_messages_total',
    unit: '{message}',
    help: 'Messages consumed; error_type (invalid_message or _OTHER) is set when processing failed and the message was retried or dead-lettered.',
    labels: ['messaging_system', 'messaging_destination_name', 'error_type'] as const,
    emittedBy: ['fulfillment'],
    semconv: 'messaging.client.consumed.messages',
  }),
  messagingProcessDuration: histogram({
    name: 'messaging_process_duration_seconds',
    unit: 's',
    help: 'Time from receiving a message to its acknowledgement, including the batched database write.',
    labels: ['messaging_system', 'messaging_destination_name', 'error_type'] as const,
    buckets: DURATION_BUCKETS,
    exemplars: true,
    emittedBy: ['fulfillment'],
    semconv: 'messaging.process.duration',
  }),
  messagingRetriedMessages: counter({
    name: 'messaging_retried_messages_total',
    unit: '{message}',
    help: 'Messages sent to the retry queue after a failed attempt.',
    labels: ['messaging_destination_name'] as const,
    emittedBy: ['fulfillment'],
  }),
  messagingDeadLetteredMessages: counter({
    name: 'messaging_dead_lettered_messages_total',
    unit: '{message}',
    help: 'Messages moved to the dead-letter queue after their last attempt.',
    labels: ['messaging_destination_name'] as const,
    emittedBy: ['fulfillment'],
  }),
  messagingConsumerLag: gauge({
    name: 'messaging_consumer_lag_seconds',
    unit: 's',
    help: 'Age of the most recently received message when it arrived (publish to consume).',
    labels: ['messaging_destination_name'] as const,
    emittedBy: ['fulfillment'],
  }),
  messagingQueueMessages: gauge({
    name: 'messaging_queue_messages',
    unit: '{message}',
    help: 'Messages ready in each queue of the order topology (main, retry, dead-letter); absent while the broker is unreachable.',
    labels: ['messaging_destination_name'] as const,
    emittedBy: ['fulfillment'],
  }),
  fulfillmentOrderConfirmationDelay: histogram({
    name: 'fulfillment_order_confirmation_delay_seconds',
    unit: 's',
    help: 'Time from an order\'s acceptance (its event\'s createdAt) to its confirmation, retries included: the freshness SLI (60 s).',
    labels: [] as const,
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    exemplars: true,
    emittedBy: ['fulfillment'],
  }),
  fulfillmentOrdersConfirmed: counter({
    name: 'fulfillment_orders_confirmed_total',
    unit: '{order}',
    help: 'Orders moved from pending to confirmed (an order delivered twice is counted once).',
    labels: [] as const,
    emittedBy: ['fulfillment'],
  }),

  // --- Gateway -----------------------------------------------------------------------------------------------
  gatewayRateLimitedRequests: counter({
    name: 'gateway_rate_limited_requests_total',
    unit: '{request}',
    help: 'Requests refused with 429 because the client spent its budget.',
    labels: [] as const,
    emittedBy: ['gateway'],
  }),
  gatewayUpstreamFailures: counter({
    name: 'gateway_upstream_failures_total',
    unit: '{request}',
    help: 'Upstream calls answered by the gateway itself with 502 or 504, by upstream and error_type (timeout or unreachable).',
    labels: ['upstream', 'error_type'] as const,
    emittedBy: ['gateway'],
  }),

  // --- Runtime limits (every service) ------------------------------------------------------------------------
  nodejsHeapSizeLimit: gauge({
    name: 'nodejs_heap_size_limit_bytes',
    unit: 'By',
    help: 'V8\'s heap size limit (--max-old-space-size or its default): the process fails with out-of-memory near it.',
    labels: [] as const,
    emittedBy: ALL,
  }),

  // --- The SDK's own export path (every service) -------------------------------------------------------------
  otelSdkExporterSpanExported: counter({
    name: 'otel_sdk_exporter_span_exported_total',
    unit: '{span}',
    help: 'Spans handed to the OTLP exporter; error_type is set for spans whose batch was lost (collector down).',
    labels: ['error_type'] as const,
    emittedBy: ALL,
    semconv: 'otel.sdk.exporter.span.exported',
  }),
  otelSdkExporterLogExported: counter({
    name: 'otel_sdk_exporter_log_exported_total',
    unit: '{log_record}',
    help: 'Log records handed to the OTLP exporter; error_type is set for records whose batch was lost.',
    labels: ['error_type'] as const,
    emittedBy: ALL,
    semconv: 'otel.sdk.exporter.log.exported',
  }),
  otelSdkProcessorSpanDropped: counter({
    name: 'otel_sdk_processor_span_dropped_total',
    unit: '{span}',
    help: 'Spans dropped before export because the batch queue was full (OTEL_BSP_MAX_QUEUE_SIZE).',
    labels: ['error_type'] as const,
    emittedBy: ALL,
  }),
} as const;

/** Node.js runtime metrics, created by prom-client's `collectDefaultMetrics` on every service. */
export const runtimeMetrics: readonly MetricSpec[] = (
  [
    ['process_cpu_user_seconds_total', 'counter', 's', 'User CPU time spent.', []],
    ['process_cpu_system_seconds_total', 'counter', 's', 'System CPU time spent.', []],
    ['process_cpu_seconds_total', 'counter', 's', 'User and system CPU time spent.', []],
    ['process_start_time_seconds', 'gauge', 's', 'Start time of the process since the Unix epoch.', []],
    ['process_resident_memory_bytes', 'gauge', 'By', 'Resident memory size.', []],
    ['process_virtual_memory_bytes', 'gauge', 'By', 'Virtual memory size.', []],
    ['process_heap_bytes', 'gauge', 'By', 'Process heap size.', []],
    ['process_open_fds', 'gauge', '{fd}', 'Open file descriptors.', []],
    ['process_max_fds', 'gauge', '{fd}', 'Maximum number of open file descriptors.', []],
    ['nodejs_eventloop_lag_seconds', 'gauge', 's', 'Event-loop lag, measured by a timer.', []],
    ['nodejs_eventloop_lag_min_seconds', 'gauge', 's', 'Minimum recorded event-loop delay.', []],
    ['nodejs_eventloop_lag_max_seconds', 'gauge', 's', 'Maximum recorded event-loop delay.', []],
    ['nodejs_eventloop_lag_mean_seconds', 'gauge', 's', 'Mean recorded event-loop delay.', []],
    ['nodejs_eventloop_lag_stddev_seconds', 'gauge', 's', 'Standard deviation of the recorded event-loop delays.', []],
    ['nodejs_eventloop_lag_p50_seconds', 'gauge', 's', 'Median recorded event-loop delay.', []],
    ['nodejs_eventloop_lag_p90_seconds', 'gauge', 's', '90th percentile of the recorded event-loop delays.', []],
    ['nodejs_eventloop_lag_p99_seconds', 'gauge', 's', '99th percentile of the recorded event-loop delays.', []],
    ['nodejs_active_resources', 'gauge', '{resource}', 'Resources keeping the event loop alive, by type.', ['type']],
    ['nodejs_active_resources_total', 'gauge', '{resource}', 'Resources keeping the event loop alive.', []],
    ['nodejs_active_handles', 'gauge', '{handle}', 'Active libuv handles, by type.', ['type']],
    ['nodejs_active_handles_total', 'gauge', '{handle}', 'Active libuv handles.', []],
    ['nodejs_active_requests', 'gauge', '{request}', 'Active libuv requests, by type (present only while there are some).', ['type']],
    ['nodejs_active_requests_total', 'gauge', '{request}', 'Active libuv requests.', []],
    ['nodejs_heap_size_total_bytes', 'gauge', 'By', 'V8 heap size.', []],
    ['nodejs_heap_size_used_bytes', 'gauge', 'By', 'V8 heap used.', []],
    ['nodejs_external_memory_bytes', 'gauge', 'By', 'Memory of C++ objects bound to JavaScript objects.', []],
    ['nodejs_heap_space_size_total_bytes', 'gauge', 'By', 'V8 heap space size, by space.', ['space']],
    ['nodejs_heap_space_size_used_bytes', 'gauge', 'By', 'V8 heap space used, by space.', ['space']],
    ['nodejs_heap_space_size_available_bytes', 'gauge', 'By', 'V8 heap space available, by space.', ['space']],
    ['nodejs_version_info', 'gauge', '1', 'Node.js version (always 1).', ['version', 'major', 'minor', 'patch']],
    ['nodejs_gc_duration_seconds', 'histogram', 's', 'Garbage collection duration, by kind.', ['kind']],
  ] as const
).map(([name, type, unit, help, labels]): MetricSpec =>
  type === 'histogram'
    ? { type, name, unit, help, labels, emittedBy: ALL, buckets: [0.001, 0.01, 0.1, 1, 2, 5], exemplars: false }
    : { type, name, unit, help, labels, emittedBy: ALL, ...(name === 'nodejs_active_requests' && { intermittent: true }) },
);

/** Every metric of the contract: the services' own, then the runtime's. */
export const allMetrics: readonly MetricSpec[] = [...Object.values(metrics), ...runtimeMetrics];

/**
 * Labels every series of every service carries, from the same resource attributes as its traces and logs (the
 * semantic conventions' Prometheus mapping: dots become underscores). `OTEL_SERVICE_NAME` renames all three.
 */
export const IDENTITY_LABELS = {
  'service.name': 'service_name',
  'service.namespace': 'service_namespace',
  'deployment.environment.name': 'deployment_environment_name',
  'service.instance.id': 'service_instance_id',
} as const;

/** Resource attributes on every span and log record (and, as IDENTITY_LABELS, on every series). */
export const RESOURCE_ATTRIBUTES: readonly { name: string; meaning: string }[] = [
  { name: 'service.name', meaning: 'OTEL_SERVICE_NAME, else the package name without its scope' },
  { name: 'service.namespace', meaning: '`lookout` unless OTEL_RESOURCE_ATTRIBUTES sets another' },
  { name: 'service.version', meaning: 'the package version' },
  { name: 'deployment.environment.name', meaning: 'DEPLOYMENT_ENVIRONMENT, default `local`' },
  { name: 'service.instance.id', meaning: 'a UUID per process unless OTEL_RESOURCE_ATTRIBUTES sets one' },
];

/** The fields of the one access-log line every HTTP request writes (message `request`). */
export const ACCESS_LOG_FIELDS: readonly { name: string; meaning: string }[] = [
  { name: 'http_request_method', meaning: 'the method, `_OTHER` for unknown ones' },
  { name: 'http_route', meaning: 'the route template (`/products/:id`) the request matched or would have matched (also for 401, 429 and errors raised before or in its handler), `unmatched` when none does' },
  { name: 'http_response_status_code', meaning: 'the status sent, 499 when the client went away first' },
  { name: 'duration_ms', meaning: 'from the first byte of the request to the last of the response' },
  { name: 'trace_id', meaning: 'the request\'s trace (the Grafana trace -> logs link matches on it)' },
  { name: 'span_id', meaning: 'the server span' },
];

/** Route label for requests that matched no route: never the raw path, which would explode cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';
