import { diag, DiagConsoleLogger, type DiagLogger } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchLogRecordProcessor, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { metrics, OTHER } from './contract.js';
import { createCounter } from './metrics.js';

/**
 * Telemetry about telemetry: what the SDK exported, failed to export (collector down: the OTLP exporter gave up on a
 * batch) or dropped (its queue was full). Without these a collector outage would be silent in the service.
 */
const exported = {
  traces: createCounter(metrics.otelSdkExporterSpanExported),
  logs: createCounter(metrics.otelSdkExporterLogExported),
};
const droppedSpans = createCounter(metrics.otelSdkProcessorSpanDropped);
// Zero-valued series from the start, so that rate() and alerts see 0 rather than nothing on a healthy service.
exported.traces.inc({ error_type: '' }, 0);
exported.logs.inc({ error_type: '' }, 0);
droppedSpans.inc({ error_type: 'queue_full' }, 0);

/** error.type of a failed export: the error's class name when it is a plain identifier, `_OTHER` otherwise. */
function errorType(result: ExportResult): string {
  const name = result.error?.name;
  return name !== undefined && /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(name) ? name : OTHER;
}

type Signal = 'traces' | 'logs';

function count(signal: Signal, items: number, done: (result: ExportResult) => void) {
  return (result: ExportResult) => {
    exported[signal].inc({ error_type: result.code === ExportResultCode.SUCCESS ? '' : errorType(result) }, items);
    done(result);
  };
}

class CountingSpanExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, count('traces', spans.length, done));
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

class CountingLogExporter implements LogRecordExporter {
  constructor(private readonly inner: LogRecordExporter) {}
  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.inner.export(records, count('logs', records.length, done));
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
}

function protocol(signal: Signal): string {
  const specific = signal === 'traces' ? process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL : process.env.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL;
  return (specific ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
}

/** True when a signal goes to OTLP (the default), the case in which we build and count its exporter ourselves. */
export function exportsOtlp(signal: Signal): boolean {
  const setting = signal === 'traces' ? process.env.OTEL_TRACES_EXPORTER : process.env.OTEL_LOGS_EXPORTER;
  return setting === undefined || setting.trim() === '' || setting.trim() === 'otlp';
}

/** The OTLP span exporter for OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, counting its outcomes. */
export function countingSpanExporter(): SpanExporter {
  const p = protocol('traces');
  const inner = p === 'grpc' ? new GrpcTraceExporter() : p === 'http/json' ? new JsonTraceExporter() : new ProtoTraceExporter();
  return new CountingSpanExporter(inner);
}

const envNumber = (name: string): number | undefined => {
  const raw = process.env[name];
  return raw === undefined || raw.trim() === '' || Number.isNaN(Number(raw)) ? undefined : Number(raw);
};

/** The batch settings the standard OTEL_BSP_* or OTEL_BLRP_* variables give, leaving out those not set. */
function batchSettings(prefix: 'OTEL_BSP' | 'OTEL_BLRP') {
  const sizes = {
    scheduledDelayMillis: envNumber(`${prefix}_SCHEDULE_DELAY`),
    exportTimeoutMillis: envNumber(`${prefix}_EXPORT_TIMEOUT`),
    maxQueueSize: envNumber(`${prefix}_MAX_QUEUE_SIZE`),
    maxExportBatchSize: envNumber(`${prefix}_MAX_EXPORT_BATCH_SIZE`),
  };
  return Object.fromEntries(Object.entries(sizes).filter(([, v]) => v !== undefined)) as Partial<typeof sizes>;
}

/** A batch processor (sized by the standard OTEL_BLRP_* variables) over the counting OTLP log exporter. */
export function countingLogProcessor(): BatchLogRecordProcessor {
  const p = protocol('logs');
  const inner = p === 'grpc' ? new GrpcLogExporter() : p === 'http/json' ? new JsonLogExporter() : new ProtoLogExporter();
  return new BatchLogRecordProcessor({ exporter: new CountingLogExporter(inner), ...batchSettings('OTEL_BLRP') });
}

/**
 * Lookout's span batch delay when OTEL_BSP_SCHEDULE_DELAY is unset: the SDK's 5 s default alone kept a trace out of
 * Tempo for up to 5.7 s (bench:pipeline); 1 s matches the log processor's default. Under load a batch fills to
 * OTEL_BSP_MAX_EXPORT_BATCH_SIZE and leaves earlier anyway, so the shorter delay adds exports only when traffic is low.
 */
export const DEFAULT_SPAN_SCHEDULE_DELAY_MS = 1000;

/** A batch processor (sized by the standard OTEL_BSP_* variables) over the counting OTLP span exporter. */
export function countingSpanProcessor(): BatchSpanProcessor {
  return new BatchSpanProcessor({
    exporter: countingSpanExporter(),
    scheduledDelayMillis: DEFAULT_SPAN_SCHEDULE_DELAY_MS,
    ...batchSettings('OTEL_BSP'),
  });
}

const DROPPED_SPANS = /^Dropped (\d+) spans because maxQueueSize reached/;

/**
 * The SDK's diagnostics go to the console (warnings and errors); the batch span processor's only report of a full
 * queue is such a warning, so it is also counted.
 */
export class CountingDiagLogger implements DiagLogger {
  private readonly console = new DiagConsoleLogger();
  error(message: string, ...args: unknown[]): void {
    this.console.error(message, ...args);
  }
  warn(message: string, ...args: unknown[]): void {
    const dropped = DROPPED_SPANS.exec(message);
    if (dropped !== null) droppedSpans.inc({ error_type: 'queue_full' }, Number(dropped[1]));
    this.console.warn(message, ...args);
  }
  info(message: string, ...args: unknown[]): void {
    this.console.info(message, ...args);
  }
  debug(message: string, ...args: unknown[]): void {
    this.console.debug(message, ...args);
  }
  verbose(message: string, ...args: unknown[]): void {
    this.console.verbose(message, ...args);
  }
}

export { diag };
