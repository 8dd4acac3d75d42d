import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The stand-in for an OpenTelemetry Collector: an OTLP/HTTP endpoint that reads each export request's body, counts
 * its bytes, throws it away and answers 200 with an empty export response. Nothing is decoded, so its cost stays
 * out of the measured service (the bench pins it to the load tool's core) and as small as a receiver can be.
 * The byte count shows that a variant really exported.
 */
export class DiscardSink {
  bytes = 0;
  requests = 0;
  private readonly server: Server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
    });
    req.on('end', () => {
      this.requests++;
      // An empty protobuf message is a valid Export*ServiceResponse; JSON exporters get the empty object.
      const json = (req.headers['content-type'] ?? '').includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });

  private constructor() {
    this.server.keepAliveTimeout = 60_000;
  }

  static async start(): Promise<DiscardSink> {
    const sink = new DiscardSink();
    await new Promise<void>((resolve) => sink.server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  /** OTEL_EXPORTER_OTLP_ENDPOINT for the services that export here. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
