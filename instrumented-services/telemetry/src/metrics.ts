import { trace, TraceFlags, type Span } from '@opentelemetry/api';
import type { Request, RequestHandler, Response } from 'express';
import client from 'prom-client';

/**
 * The process-wide prom-client registry, in OpenMetrics format because only that format carries exemplars.
 * Every metric of a service registers here; `/metrics` serves it.
 */
export const registry = new client.Registry<typeof client.Registry.OPENMETRICS_CONTENT_TYPE>();
registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
client.collectDefaultMetrics({ register: registry });

/** OTel semantic-convention buckets for HTTP and DB durations, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Route label for requests that matched no route: never the raw path, which would explode cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

export type ExemplarLabels = Record<'trace_id' | 'span_id', string>;

/** trace_id/span_id of a sampled span, for an exemplar that resolves in Tempo; undefined when there is none. */
export function exemplarFor(span: Span | undefined = trace.getActiveSpan()): ExemplarLabels | undefined {
  if (span === undefined) return undefined;
  const ctx = span.spanContext();
  if ((ctx.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}

/**
 * Observes a value with the current trace as exemplar. prom-client's typings wrongly give exemplar labels the type
 * of the metric's own labels, hence the one cast here.
 */
export function observeWithExemplar<T extends string>(
  histogram: client.Histogram<T>,
  labels: client.LabelValues<T>,
  value: number,
  exemplar: ExemplarLabels | undefined,
): void {
  // Histograms with exemplars take the object form only; without an exemplar the bucket keeps its last one.
  histogram.observe({
    labels,
    value,
    ...(exemplar && { exemplarLabels: exemplar as unknown as client.LabelValues<T> }),
  });
}

export const httpServerDuration = new client.Histogram({
  name: 'http_server_request_duration_seconds',
  help: 'Duration of HTTP server requests.',
  labelNames: ['http_request_method', 'http_route', 'http_response_status_code'] as const,
  buckets: DURATION_BUCKETS,
  enableExemplars: true,
  registers: [registry],
});

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/**
 * The route template a request matched (`/products/:id`), including the mount path of its router; `unmatched`
 * when no route handled it.
 */
export function routeTemplate(req: Pick<Request, 'baseUrl' | 'route'>): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route !== 'string') return UNMATCHED_ROUTE;
  const full = `${req.baseUrl}${route === '/' && req.baseUrl !== '' ? '' : route}`;
  return full === '' ? '/' : full;
}

/**
 * Records `http_server_request_duration_seconds` for every request, labelled by method, route template and status
 * code, with the request's trace as exemplar. Paths in `ignore` (probes, the scrape itself) are not recorded.
 */
export function requestMetrics(options: { ignore?: ReadonlySet<string> } = {}): RequestHandler {
  const ignore = options.ignore ?? new Set(['/metrics', '/healthz', '/readyz']);
  return (req: Request, res: Response, next) => {
    if (ignore.has(req.path)) {
      next();
      return;
    }
    const start = process.hrtime.bigint();
    // The server span is active here; by the time 'finish' fires the context may be gone.
    const exemplar = exemplarFor();
    const record = () => {
      res.removeListener('finish', record);
      res.removeListener('close', record);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const labels = {
        http_request_method: KNOWN_METHODS.has(req.method) ? req.method : '_OTHER',
        http_route: routeTemplate(req),
        // A client that went away before the response is recorded as 499, as nginx does.
        http_response_status_code: res.writableFinished ? res.statusCode : 499,
      };
      observeWithExemplar(httpServerDuration, labels, seconds, exemplar);
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

/** GET /metrics */
export function metricsHandler(): RequestHandler {
  return (_req, res, next) => {
    registry
      .metrics()
      .then((body) => {
        res.setHeader('Content-Type', registry.contentType);
        res.send(body);
      })
      .catch(next);
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Dependency metrics shared by every service, so that dashboards and alerts can rely on one set of names.

export const dbClientOperationDuration = new client.Histogram({
  name: 'db_client_operation_duration_seconds',
  help: 'Duration of database operations, by logical operation name and outcome.',
  labelNames: ['db_system_name', 'db_operation_name', 'outcome'] as const,
  buckets: [0.001, 0.0025, ...DURATION_BUCKETS],
  enableExemplars: true,
  registers: [registry],
});

/** Times one database operation (a query or a transaction) under a stable, low-cardinality name. */
export async function timeDbOperation<T>(operation: string, run: () => Promise<T>, system = 'postgresql'): Promise<T> {
  const start = process.hrtime.bigint();
  const exemplar = exemplarFor();
  let outcome = 'error';
  try {
    const result = await run();
    outcome = 'success';
    return result;
  } finally {
    const labels = { db_system_name: system, db_operation_name: operation, outcome };
    const value = Number(process.hrtime.bigint() - start) / 1e9;
    observeWithExemplar(dbClientOperationDuration, labels, value, exemplar);
  }
}

/** What a pg Pool (or any pool) exposes about itself. */
export interface PoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

const pools = new Map<string, { pool: PoolStats; max: number }>();

function poolGauge(name: string, help: string, read: (entry: { pool: PoolStats; max: number }) => number) {
  return new client.Gauge({
    name,
    help,
    labelNames: ['pool_name'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [poolName, entry] of pools) this.set({ pool_name: poolName }, read(entry));
    },
  });
}

poolGauge('db_client_connections_total', 'Connections open in the pool (idle and in use).', (e) => e.pool.totalCount);
poolGauge('db_client_connections_idle', 'Idle connections in the pool.', (e) => e.pool.idleCount);
poolGauge('db_client_connections_max', 'Maximum connections the pool may open.', (e) => e.max);
poolGauge('db_client_connections_pending_requests', 'Requests waiting for a connection from the pool.', (e) => e.pool.waitingCount);

/** Exposes a pool's size, idle and waiting counts as gauges read at scrape time. */
export function observePool(poolName: string, pool: PoolStats, max: number): void {
  pools.set(poolName, { pool, max });
}

export const cacheRequests = new client.Counter({
  name: 'cache_requests_total',
  help: 'Cache look-ups by result: hit, miss, or error (cache unreachable, answered from the source).',
  labelNames: ['cache_name', 'result'] as const,
  registers: [registry],
});

export const cacheCoalesced = new client.Counter({
  name: 'cache_coalesced_requests_total',
  help: 'Cache misses that waited for a load already in flight instead of querying the source themselves.',
  labelNames: ['cache_name'] as const,
  registers: [registry],
});

export { client as promClient };
