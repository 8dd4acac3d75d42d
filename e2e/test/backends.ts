import { randomBytes, randomUUID } from 'node:crypto';
import type { StackSettings } from '@lookout/native-stack';
import { fetchJson, toAttributes, WRITE_KEY, type KeyValue } from '@lookout/testkit';

/** GET a backend's JSON API, bounded in time. */
const getJson = (url: string) => fetchJson(url, { signal: AbortSignal.timeout(10_000) });
interface TempoSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string | number;
  attributes?: KeyValue[];
  links?: { traceId?: string }[];
}
interface TempoTrace {
  trace?: { resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: TempoSpan[] }[] }[] };
  batches?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: TempoSpan[] }[] }[];
}

export interface TraceSpan {
  service: string;
  name: string;
  kind: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, string>;
  /** Trace ids this span links to, hex. */
  linkedTraceIds: string[];
}

/** A trace id as Tempo's JSON spells it (hex, or base64 of the 16 bytes), as hex. */
const hexTraceId = (id: string): string => (/^[0-9a-f]{32}$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex'));

const attrs = (list: KeyValue[] | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(toAttributes(list)).map(([k, v]) => [k, typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v ?? '')]),
  );

// OTLP/JSON as Tempo serves it: kinds may be names (SPAN_KIND_SERVER) or numbers.
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const kindName = (kind: string | number) => (typeof kind === 'number' ? (KINDS[kind] ?? String(kind)) : kind.replace('SPAN_KIND_', ''));

/** The spans of a trace from Tempo's API, or undefined while Tempo does not know it. */
export async function tempoTrace(s: StackSettings, traceId: string): Promise<TraceSpan[] | undefined> {
  const { status, body: raw } = await getJson(`http://127.0.0.1:${s.ports.tempo}/api/v2/traces/${traceId}`);
  const body = raw as unknown as TempoTrace;
  if (status === 404) return undefined;
  if (status !== 200) throw new Error(`Tempo answered ${status}`);
  const batches = body.trace?.resourceSpans ?? body.batches ?? [];
  return batches.flatMap((batch) => {
    const service = attrs(batch.resource?.attributes)['service.name'] ?? '';
    return (batch.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((span) => ({
        service,
        name: span.name,
        kind: kindName(span.kind),
        spanId: span.spanId,
        parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId,
        attributes: attrs(span.attributes),
        linkedTraceIds: (span.links ?? []).flatMap((l) => (l.traceId === undefined ? [] : [hexTraceId(l.traceId)])),
      })),
    );
  });
}

interface LokiResult {
  data: { result: { stream: Record<string, string>; values: [string, string][] }[] };
}

/** Log lines matching a LogQL query over the last `minutes`. */
export async function lokiLines(s: StackSettings, query: string, minutes = 30): Promise<{ labels: Record<string, string>; line: string }[]> {
  const now = Date.now();
  const params = new URLSearchParams({
    query,
    start: String((now - minutes * 60_000) * 1e6),
    end: String((now + 60_000) * 1e6),
    limit: '5000',
    direction: 'forward',
  });
  const { status, body: raw } = await getJson(`http://127.0.0.1:${s.ports.loki}/loki/api/v1/query_range?${params.toString()}`);
  const body = raw as unknown as LokiResult;
  if (status !== 200) throw new Error(`Loki answered ${status}: ${JSON.stringify(body)}`);
  return body.data.result.flatMap((r) => r.values.map(([, line]) => ({ labels: r.stream, line })));
}

interface PromVector {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

export async function promQuery(s: StackSettings, query: string): Promise<{ metric: Record<string, string>; value: number }[]> {
  const { status, body: raw } = await getJson(
    `http://127.0.0.1:${s.ports.prometheus}/api/v1/query?${new URLSearchParams({ query }).toString()}`,
  );
  const body = raw as unknown as PromVector;
  if (status !== 200) throw new Error(`Prometheus answered ${status}: ${JSON.stringify(body)}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

interface PromExemplars {
  data: { seriesLabels: Record<string, string>; exemplars: { labels: Record<string, string>; value: string; timestamp: number }[] }[];
}

export async function promExemplars(s: StackSettings, query: string, sinceMs: number) {
  const params = new URLSearchParams({ query, start: String(sinceMs / 1000), end: String(Date.now() / 1000 + 60) });
  const { status, body: raw } = await getJson(`http://127.0.0.1:${s.ports.prometheus}/api/v1/query_exemplars?${params.toString()}`);
  const body = raw as unknown as PromExemplars;
  if (status !== 200) throw new Error(`Prometheus answered ${status}`);
  return body.data.flatMap((series) => series.exemplars.map((e) => ({ series: series.seriesLabels, labels: e.labels })));
}

/** The collector's own series whose name matches `pattern` and whose value is not zero, as exposed: for messages. */
export async function collectorSeries(s: StackSettings, pattern: RegExp): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${s.ports.otelcolMetrics}/metrics`);
  return (await res.text()).split('\n').filter((line) => !line.startsWith('#') && pattern.test(line.split(/[{ ]/)[0] ?? '') && Number(line.trim().split(/\s+/).at(-1)) !== 0);
}

/** Sum of the samples whose name matches `pattern` on the collector's own /metrics. */
export async function collectorMetric(s: StackSettings, pattern: RegExp): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${s.ports.otelcolMetrics}/metrics`);
  let total = 0;
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#')) continue;
    const name = line.split(/[{ ]/)[0] ?? '';
    if (pattern.test(name)) total += Number(line.trim().split(/\s+/).at(-1));
  }
  return total;
}

/**
 * Places an order through the gateway as an outside caller with a trace of its own (a traceparent we chose). The
 * public edge starts a new trace linked to ours (INBOUND_TRACE_CONTEXT=link) and names it in `traceresponse`: that
 * is the trace the request's telemetry is looked up by; `callerTraceId` is ours, which the edge must not continue.
 */
export async function tracedOrder(
  s: StackSettings,
  productId: number,
): Promise<{ status: number; orderId: number; traceId: string; callerTraceId: string }> {
  const callerTraceId = randomBytes(16).toString('hex');
  const res = await fetch(`http://127.0.0.1:${s.servicePorts.gateway ?? 0}/api/orders`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-api-key': WRITE_KEY,
      'idempotency-key': randomUUID(),
      traceparent: `00-${callerTraceId}-${randomBytes(8).toString('hex')}-01`,
    },
    body: JSON.stringify({ customerEmail: 'e2e@example.com', items: [{ productId, quantity: 1 }] }),
  });
  const body = (await res.json()) as { id?: number };
  const traceId = /^00-([0-9a-f]{32})-/.exec(res.headers.get('traceresponse') ?? '')?.[1];
  if (traceId === undefined) throw new Error(`the gateway answered without a traceresponse header (status ${res.status})`);
  return { status: res.status, orderId: body.id ?? Number.NaN, traceId, callerTraceId };
}
