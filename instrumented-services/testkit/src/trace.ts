import { after, before } from 'node:test';
import { context, trace, type TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/** A fixed trace and span for unit tests that run code "inside a request" without the SDK. */
export const TEST_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const TEST_SPAN_ID = '00f067aa0ba902b7';

/** Runs `fn` as if inside a span of TEST_TRACE_ID with the given flags (sampled or not). */
export function withTestSpan<T>(flags: TraceFlags, fn: () => T): T {
  const span = trace.wrapSpanContext({ traceId: TEST_TRACE_ID, spanId: TEST_SPAN_ID, traceFlags: flags });
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Installs an async-hooks context manager for the enclosing suite, as the SDK would, and removes it after. */
export function useContextManager(): void {
  const manager = new AsyncLocalStorageContextManager();
  before(() => context.setGlobalContextManager(manager.enable()));
  after(() => context.disable());
}
