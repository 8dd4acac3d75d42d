import { trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';

/**
 * `traceresponse` (W3C Trace Context Level 2): the trace this request was recorded in, so that a caller — a user
 * reporting a problem, a smoke test — can name it even when the edge started a new trace instead of continuing the
 * caller's (see INBOUND_TRACE_CONTEXT in @lookout/telemetry). Nothing when the request is not traced.
 */
export function traceResponse(): RequestHandler {
  return (_req, res, next) => {
    const span = trace.getActiveSpan()?.spanContext();
    if (span !== undefined && trace.isSpanContextValid(span)) {
      res.setHeader('traceresponse', `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 1).toString(16).padStart(2, '0')}`);
    }
    next();
  };
}
