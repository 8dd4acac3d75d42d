export { instrumentApp } from './app.js';
export { healthRoutes, Lifecycle, readiness, type DependencyCheck, type ReadinessReport } from './health.js';
export { serviceIdentity, type ServiceIdentity } from './identity.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export {
  cacheCoalesced,
  cacheRequests,
  DURATION_BUCKETS,
  exemplarFor,
  httpServerDuration,
  metricsHandler,
  observePool,
  observeWithExemplar,
  promClient,
  registry,
  requestMetrics,
  routeTemplate,
  timeDbOperation,
  UNMATCHED_ROUTE,
  type PoolStats,
} from './metrics.js';
export { captureTraceContext, withoutTraceContext, withTraceContext, type TraceCarrier } from './propagation.js';
export { redactRecord, redactString, redactValue, REDACTED } from './redact.js';
export { isTelemetryStarted, shutdownTelemetry, startTelemetry } from './sdk.js';
export { serve, type RunningServer, type ServeOptions } from './shutdown.js';
