import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort } from './ports.js';

// OTLP/HTTP JSON encoding, only the parts the tests read.
interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}
export interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  links?: { traceId: string; spanId: string; attributes?: KeyValue[] }[];
}
interface OtlpLogRecord {
  traceId?: string;
  spanId?: string;
  severityText?: string;
  body?: AnyValue;
  attributes?: KeyValue[];
}
interface Resource {
  attributes?: KeyValue[];
}
interface TracesRequest {
  resourceSpans?: { resource?: Resource; scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[] }[];
}
interface LogsRequest {
  resourceLogs?: { resource?: Resource; scopeLogs?: { logRecords?: OtlpLogRecord[] }[] }[];
}

export type Attributes = Record<string, unknown>;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  scope: string;
  attributes: Attributes;
  resource: Attributes;
  links: { traceId: string; spanId: string; attributes: Attributes }[];
}

export interface ReceivedLog {
  traceId: string | undefined;
  spanId: string | undefined;
  severityText: string | undefined;
  body: unknown;
  attributes: Attributes;
  resource: Attributes;
}

function fromAnyValue(value: AnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(fromAnyValue);
  if (value.kvlistValue !== undefined) return toAttributes(value.kvlistValue.values);
  return undefined;
}

/** OTLP/JSON key-values (as the SDK sends them and Tempo serves them) as a plain object. */
export function toAttributes(list: readonly KeyValue[] | undefined): Attributes {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, fromAnyValue(kv.value)]));
}

// An empty id is sent as "" in JSON; treat it as absent.
const id = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/**
 * An OTLP/HTTP receiver (JSON encoding) that stands in for the collector in tests below the stack tier: services
 * export to it with OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL=http/json, and tests read what
 * arrived. The real collector is exercised by the stack tests.
 */
export class OtlpSink {
  readonly spans: ReceivedSpan[] = [];
  readonly logs: ReceivedLog[] = [];
  readonly port: number;
  private readonly server: Server;

  private constructor(server: Server, port: number) {
    this.server = server;
    this.port = port;
  }

  static async start(): Promise<OtlpSink> {
    const port = await freePort();
    const server = createServer();
    const sink = new OtlpSink(server, port);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      sink.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return sink;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Environment for a service that should export here, flushing batches quickly. */
  get env(): Record<string, string> {
    return {
      OTEL_EXPORTER_OTLP_ENDPOINT: this.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BLRP_SCHEDULE_DELAY: '100',
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (req.url === '/v1/traces') this.addTraces(body as TracesRequest);
        else if (req.url === '/v1/logs') this.addLogs(body as LogsRequest);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
      }
    });
  }

  private addTraces(body: TracesRequest): void {
    for (const rs of body.resourceSpans ?? []) {
      const resource = toAttributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          this.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: id(span.parentSpanId),
            name: span.name,
            kind: span.kind,
            scope: ss.scope?.name ?? '',
            attributes: toAttributes(span.attributes),
            resource,
            links: (span.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: toAttributes(l.attributes) })),
          });
        }
      }
    }
  }

  private addLogs(body: LogsRequest): void {
    for (const rl of body.resourceLogs ?? []) {
      const resource = toAttributes(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const record of sl.logRecords ?? []) {
          this.logs.push({
            traceId: id(record.traceId),
            spanId: id(record.spanId),
            severityText: record.severityText,
            body: fromAnyValue(record.body),
            attributes: toAttributes(record.attributes),
            resource,
          });
        }
      }
    }
  }

  spansOfTrace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
