import { context, diag, DiagLogLevel, logs } from '@opentelemetry/api';
import { logs as legacyLogs } from '@opentelemetry/api-logs';
import { getNodeAutoInstrumentations, type InstrumentationConfigMap } from '@opentelemetry/auto-instrumentations-node';
import { ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import { CountingDiagLogger, countingLogProcessor, countingSpanProcessor, exportsOtlp } from './export-counting.js';
import { serviceIdentity } from './identity.js';
import { inboundPolicy, InboundPolicyPropagator, linkInboundCaller } from './inbound.js';

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
 * Instrumentations that would add a span per file read, DNS lookup or socket, or duplicate prom-client's runtime
 * metrics; and router's: Express 5 routes through the `router` package, which that instrumentation wraps with a span
 * per middleware layer (11 of a catalog cache hit's 15 spans, the request handler twice), past express's
 * ignoreLayersType below. The express instrumentation keeps the request handler span.
 */
const OFF_BY_DEFAULT = [
  '@opentelemetry/instrumentation-fs',
  '@opentelemetry/instrumentation-dns',
  '@opentelemetry/instrumentation-net',
  '@opentelemetry/instrumentation-runtime-node',
  '@opentelemetry/instrumentation-router',
] as const;

/**
 * Every instrumentation of `@opentelemetry/auto-instrumentations-node`, so that a library a service adds (kafkajs,
 * mongodb, …) is traced without a change here, with Lookout's settings for the ones our services use.
 * `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS` (comma-separated short names such as
 * `http,pg`) are honoured; naming fs, dns or net in the enabled list turns them back on.
 */
export function instrumentationConfig(env: NodeJS.ProcessEnv = process.env): InstrumentationConfigMap {
  const config: InstrumentationConfigMap = {
    '@opentelemetry/instrumentation-http': {
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      ...(inboundPolicy(env) === 'link' && { requestHook: (span, request) => linkInboundCaller(span, request, context.active()) }),
    },
    // Middleware and router layers (json parser, metrics, health router, …) are one span each per request and
    // say nothing an SRE needs; the request handler span and the http server span remain.
    '@opentelemetry/instrumentation-express': { ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] },
    // Statement text is kept (it is parameterised) but parameter values are not: they can hold personal data.
    '@opentelemetry/instrumentation-pg': { requireParentSpan: true, enhancedDatabaseReporting: false },
    '@opentelemetry/instrumentation-ioredis': { requireParentSpan: true },
  };
  if ((env.OTEL_NODE_ENABLED_INSTRUMENTATIONS ?? '').trim() === '') {
    for (const name of OFF_BY_DEFAULT) config[name] = { enabled: false };
  }
  return config;
}

/**
 * Starts the OpenTelemetry SDK: traces and logs over OTLP (protocol, endpoint, headers, sampler and batch sizes from
 * the standard OTEL_* variables; http/protobuf to localhost:4318 by default), W3C trace context (what an edge service
 * does with an outside caller's context: `INBOUND_TRACE_CONTEXT`, see inbound.ts), and the resource
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
  const policy = inboundPolicy();
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
    ...(exportsOtlp('traces') ? { spanProcessors: [countingSpanProcessor()] } : {}),
    ...(exportsOtlp('logs') ? { logRecordProcessors: [countingLogProcessor()] } : {}),
    ...(policy !== undefined && { textMapPropagator: new InboundPolicyPropagator(policy) }),
    instrumentations: [getNodeAutoInstrumentations(instrumentationConfig())],
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
