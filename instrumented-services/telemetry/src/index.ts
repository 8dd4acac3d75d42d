export * as contract from './contract.js';
export { metrics, OTHER, UNMATCHED_ROUTE, type MetricSpec } from './contract.js';
export { serviceIdentity, type ServiceIdentity } from './identity.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export {
  createCounter,
  createGauge,
  createHistogram,
  exemplarFor,
  observeWithExemplar,
  registry,
  renderMetrics,
  type ExemplarLabels,
} from './metrics.js';
export { INBOUND_POLICIES, INBOUND_POLICY_VARIABLE, inboundPolicy, type InboundPolicy } from './inbound.js';
export { captureTraceContext, withoutTraceContext, withTraceContext, type TraceCarrier } from './propagation.js';
export { redactRecord, redactString, redactValue, REDACTED } from './redact.js';
export { instrumentationConfig, isTelemetryStarted, shutdownTelemetry, startTelemetry, UNTRACED_PATHS } from './sdk.js';
