import { diag, DiagLogLevel, logs } from '@opentelemetry/api';
import { logs as legacyLogs } from '@opentelemetry/api-logs';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { WinstonInstrumentation } from '@opentelemetry/instrumentation-winston';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import { CountingDiagLogger, countingLogProcessor, countingSpanExporter, exportsOtlp } from './export-counting.js';
import { serviceIdentity } from './identity.js';

// Incubating semantic-convention keys, spelled out rather than imported from the unstable entry point.
const ATTR_DEPLOYMENT_ENVIRONMENT_NAME = 'deployment.environment.name';
const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

/** Paths that are polled by orchestrators and scrapers: tracing them only adds noise. */
export const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

let sdk: NodeSDK | undefined;
let shutdownPromise: Promise<void> | undefined;

export function isTelemetryStarted(): boolean {
  return sdk !== undefined;
}

/**
 * Only the instrumentations our services need; fs, dns and net are not loaded at all (they would add a span for
 * every file read and socket). Each one is configured to keep spans meaningful and free of personal data.
 */
function instrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
    }),
    // Middleware and router layers (json parser, metrics, health router, …) are one span each per request and
    // say nothing an SRE needs; the request handler span and the http server span remain.
    new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }),
    // Statement text is kept (it is parameterised) but parameter values are not: they can hold personal data.
    new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
    new IORedisInstrumentation({ requireParentSpan: true }),
    new AmqplibInstrumentation(),
    new UndiciInstrumentation(),
    new WinstonInstrumentation(),
  ];
}

/**
 * Starts the OpenTelemetry SDK: traces and logs over OTLP (protocol, endpoint, headers, sampler and batch sizes from
 * the standard OTEL_* variables; http/protobuf to localhost:4318 by default), W3C trace context, and the resource
 * attributes of `serviceIdentity()`. Metrics are prom-client's (see metrics.ts), so the SDK's OTLP metrics
 * pipeline stays off unless OTEL_METRICS_EXPORTER asks for it.
 */
export function startTelemetry(): void {
  if (sdk !== undefined) return;
  if (process.env.OTEL_LOG_LEVEL === undefined) {
    // Export failures (collector down) must be visible, and a full span queue counted (see export-counting.ts).
    diag.setLogger(new CountingDiagLogger(), DiagLogLevel.WARN);
  }
  const identity = serviceIdentity();
  sdk = new NodeSDK({
    // The env detector runs after this and wins, so OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME still override.
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: identity.name,
      [ATTR_SERVICE_VERSION]: identity.version,
      [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: identity.environment,
      [ATTR_SERVICE_INSTANCE_ID]: identity.instanceId,
    }),
    ...(process.env.OTEL_METRICS_EXPORTER === undefined ? { metricReaders: [] } : {}),
    // OTLP (the default) is built here so that its outcomes are counted; other exporters come from the env as usual.
    ...(exportsOtlp('traces') ? { traceExporter: countingSpanExporter() } : {}),
    ...(exportsOtlp('logs') ? { logRecordProcessors: [countingLogProcessor()] } : {}),
    instrumentations: instrumentations(),
  });
  sdk.start();
  // sdk-node 0.300 registers its LoggerProvider with the logs API now inside @opentelemetry/api, while
  // @opentelemetry/winston-transport (0.34, the newest) still reads the global of @opentelemetry/api-logs. Without
  // this bridge winston records never leave the process. Remove once the transport moves to @opentelemetry/api.
  legacyLogs.setGlobalLoggerProvider(logs.getLoggerProvider());
}

/** Flushes and stops every signal; safe to call more than once. */
export function shutdownTelemetry(): Promise<void> {
  if (sdk === undefined) return Promise.resolve();
  shutdownPromise ??= sdk.shutdown().catch((err: unknown) => {
    diag.error('telemetry shutdown failed', err);
  });
  return shutdownPromise;
}
