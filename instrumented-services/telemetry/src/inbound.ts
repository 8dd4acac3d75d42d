import { IncomingMessage, type ClientRequest } from 'node:http';
import {
  createContextKey,
  trace,
  type Context,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * What a service does with a trace context that arrives from outside (`INBOUND_TRACE_CONTEXT`):
 * - `continue`: the request's spans join the caller's trace (right between our own services);
 * - `link`: a new trace starts, and its server span carries a link to the caller's span (the public edge: an outside
 *   client can neither choose our trace ids nor force sampling, and the relation is still one click away);
 * - `ignore`: a new trace, no link.
 * Where a policy is set, inbound `baggage` is dropped in every mode: it would otherwise travel, unchecked, to every
 * service behind the edge. Unset means the OpenTelemetry default (W3C trace context and baggage, continued).
 */
export const INBOUND_POLICIES = ['continue', 'link', 'ignore'] as const;
export type InboundPolicy = (typeof INBOUND_POLICIES)[number];

export const INBOUND_POLICY_VARIABLE = 'INBOUND_TRACE_CONTEXT';

/** The policy named in the environment; undefined when unset. Throws naming the variable for a wrong value. */
export function inboundPolicy(env: NodeJS.ProcessEnv = process.env): InboundPolicy | undefined {
  const raw = (env[INBOUND_POLICY_VARIABLE] ?? '').trim();
  if (raw === '') return undefined;
  const policy = INBOUND_POLICIES.find((p) => p === raw);
  if (policy === undefined) {
    throw new Error(`invalid configuration: ${INBOUND_POLICY_VARIABLE}: expected one of ${INBOUND_POLICIES.join(', ')} (got "${raw}")`);
  }
  return policy;
}

// Where `link` keeps the caller's span context: in the request's context, but not as its parent.
const INBOUND_CALLER = createContextKey('lookout.inbound_caller');

/**
 * The propagator of a service with an inbound policy. Injection is the standard one (our own trace context and
 * baggage go to our own services); extraction applies the policy. It is used for incoming HTTP requests only: the
 * policy is for edge services, which take no work from a broker or an outbox.
 */
export class InboundPolicyPropagator implements TextMapPropagator {
  private readonly traceContext = new W3CTraceContextPropagator();
  private readonly outbound = new CompositePropagator({ propagators: [this.traceContext, new W3CBaggagePropagator()] });

  constructor(private readonly policy: InboundPolicy) {}

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.outbound.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    if (this.policy === 'ignore') return context;
    const withCaller = this.traceContext.extract(context, carrier, getter);
    if (this.policy === 'continue') return withCaller;
    const caller = trace.getSpanContext(withCaller);
    return caller === undefined ? context : context.setValue(INBOUND_CALLER, caller);
  }

  fields(): string[] {
    return this.outbound.fields();
  }
}

/**
 * instrumentation-http's `requestHook`: under the `link` policy, the server span of an incoming request links to
 * the caller's span. Runs inside the context the propagator extracted, which holds the caller (see above).
 */
export function linkInboundCaller(span: Span, request: ClientRequest | IncomingMessage, active: Context): void {
  if (!(request instanceof IncomingMessage)) return;
  const caller = active.getValue(INBOUND_CALLER) as SpanContext | undefined;
  if (caller !== undefined) span.addLink({ context: caller, attributes: { 'lookout.link.type': 'inbound_caller' } });
}
