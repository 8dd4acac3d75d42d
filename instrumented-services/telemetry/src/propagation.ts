import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';

export type TraceCarrier = Record<string, string>;

/**
 * The current trace context as W3C headers (traceparent, tracestate, baggage), to store beside work that another
 * process or a later moment picks up (an outbox row, say).
 */
export function captureTraceContext(): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs `fn` inside the trace context stored in `carrier`, so the spans it creates continue that trace. */
export function withTraceContext<T>(carrier: Readonly<Record<string, unknown>>, fn: () => T): T {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(carrier)) if (typeof value === 'string') headers[key] = value;
  return context.with(propagation.extract(ROOT_CONTEXT, headers), fn);
}

/**
 * Runs `fn` outside any trace. For background loops started from a request (an outbox relay kicked after a
 * commit): without this, every later round would be recorded as part of that one request's trace.
 */
export function withoutTraceContext<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}
