import { trace, TraceFlags, type Span } from '@opentelemetry/api';
import { getHeapStatistics } from 'node:v8';
import client from 'prom-client';
import type { CounterSpec, GaugeSpec, HistogramSpec } from './contract.js';
import { IDENTITY_LABELS, metrics } from './contract.js';
import { serviceIdentity } from './identity.js';

/**
 * The process-wide prom-client registry, in OpenMetrics format because only that format carries exemplars.
 * Every series carries the service's identity (IDENTITY_LABELS), the same resource attributes as its traces and
 * logs, so that renaming a service renames all three signals and Grafana's trace -> metrics links match.
 */
export const registry = new client.Registry<typeof client.Registry.OPENMETRICS_CONTENT_TYPE>();
registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
{
  const identity = serviceIdentity();
  registry.setDefaultLabels({
    [IDENTITY_LABELS['service.name']]: identity.name,
    [IDENTITY_LABELS['service.namespace']]: identity.namespace,
    [IDENTITY_LABELS['deployment.environment.name']]: identity.environment,
    [IDENTITY_LABELS['service.instance.id']]: identity.instanceId,
  });
}
client.collectDefaultMetrics({ register: registry });

// prom-client's default metrics give the heap used but not its limit, which memory alerts compare against.
createGauge(metrics.nodejsHeapSizeLimit, (gauge) => {
  gauge.set(getHeapStatistics().heap_size_limit);
});

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

// The only constructors of prom-client instruments in Lookout: name, help, labels and buckets come from the contract.

export function createCounter<L extends string>(spec: CounterSpec<L>): client.Counter<L> {
  return new client.Counter({ name: spec.name, help: spec.help, labelNames: spec.labels, registers: [registry] });
}

/** A gauge; `collect` runs at scrape time for values read from elsewhere (a pool, a queue). */
export function createGauge<L extends string>(
  spec: GaugeSpec<L>,
  collect?: (gauge: client.Gauge<L>) => void | Promise<void>,
): client.Gauge<L> {
  return new client.Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labels,
    registers: [registry],
    ...(collect && {
      collect(this: client.Gauge<L>) {
        return collect(this);
      },
    }),
  });
}

export function createHistogram<L extends string>(spec: HistogramSpec<L>): client.Histogram<L> {
  return new client.Histogram({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labels,
    buckets: [...spec.buckets],
    enableExemplars: spec.exemplars,
    registers: [registry],
  });
}

/** The text of `/metrics`. */
export function renderMetrics(): Promise<string> {
  return registry.metrics();
}
