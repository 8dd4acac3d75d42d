import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultTextMapGetter, defaultTextMapSetter, propagation, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import { inboundPolicy, InboundPolicyPropagator } from '../../src/inbound.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const inbound = { traceparent: `00-${TRACE}-${SPAN}-01`, baggage: 'tenant=other,user.id=42' };
const extract = (policy: 'continue' | 'link' | 'ignore'): Context =>
  new InboundPolicyPropagator(policy).extract(ROOT_CONTEXT, inbound, defaultTextMapGetter);

describe('INBOUND_TRACE_CONTEXT', () => {
  it('continue: the caller\'s span becomes the parent; its baggage is dropped', () => {
    const ctx = extract('continue');
    assert.equal(trace.getSpanContext(ctx)?.traceId, TRACE);
    assert.equal(propagation.getBaggage(ctx), undefined);
  });

  it('link and ignore: no parent (a new trace), and no baggage', () => {
    for (const policy of ['link', 'ignore'] as const) {
      const ctx = extract(policy);
      assert.equal(trace.getSpanContext(ctx), undefined, policy);
      assert.equal(propagation.getBaggage(ctx), undefined, policy);
    }
  });

  it('injects our own trace context and baggage into outgoing calls', () => {
    const propagator = new InboundPolicyPropagator('link');
    const ours = trace.setSpanContext(
      propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ step: { value: 'checkout' } })),
      { traceId: TRACE, spanId: SPAN, traceFlags: 1 },
    );
    const carrier: Record<string, string> = {};
    propagator.inject(ours, carrier, defaultTextMapSetter);
    assert.equal(carrier.traceparent, `00-${TRACE}-${SPAN}-01`);
    assert.equal(carrier.baggage, 'step=checkout');
  });

  it('reads the setting, and names it when the value is wrong', () => {
    assert.equal(inboundPolicy({}), undefined);
    assert.equal(inboundPolicy({ INBOUND_TRACE_CONTEXT: 'link' }), 'link');
    assert.throws(() => inboundPolicy({ INBOUND_TRACE_CONTEXT: 'follow' }), /INBOUND_TRACE_CONTEXT: expected one of continue, link, ignore \(got "follow"\)/);
  });
});
