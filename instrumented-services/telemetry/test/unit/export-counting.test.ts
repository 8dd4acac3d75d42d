import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { countingSpanProcessor } from '../../src/export-counting.js';

/** A stand-in OTLP/HTTP receiver that records when each trace export arrived. */
async function otlpSink(): Promise<{ server: Server; url: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/traces') arrivals.push(Date.now());
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the span batch processor', () => {
  let sink: Awaited<ReturnType<typeof otlpSink>>;
  const saved = { endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT, delay: process.env.OTEL_BSP_SCHEDULE_DELAY };
  before(async () => {
    sink = await otlpSink();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = sink.url;
  });
  after(() => {
    sink.server.close();
    if (saved.endpoint === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved.endpoint;
    if (saved.delay === undefined) delete process.env.OTEL_BSP_SCHEDULE_DELAY;
    else process.env.OTEL_BSP_SCHEDULE_DELAY = saved.delay;
  });

  function endOneSpan(): { provider: TracerProvider; endedAt: number } {
    const provider = new TracerProvider({ spanProcessors: [countingSpanProcessor()] });
    provider.getTracer('test').startSpan('one').end();
    return { provider, endedAt: Date.now() };
  }

  it('sends a lone span within about a second when OTEL_BSP_SCHEDULE_DELAY is unset (the SDK alone waits 5 s)', async () => {
    delete process.env.OTEL_BSP_SCHEDULE_DELAY;
    sink.arrivals.length = 0;
    const { provider, endedAt } = endOneSpan();
    for (let waited = 0; sink.arrivals.length === 0 && waited < 4000; waited += 50) await sleep(50);
    await provider.shutdown();
    const first = sink.arrivals[0];
    assert.ok(first !== undefined, 'no export arrived within 4 s');
    assert.ok(first - endedAt < 3000, `the span left after ${first - endedAt} ms`);
  });

  it('honours OTEL_BSP_SCHEDULE_DELAY when it is set', async () => {
    process.env.OTEL_BSP_SCHEDULE_DELAY = '10000';
    sink.arrivals.length = 0;
    const { provider } = endOneSpan();
    await sleep(3000);
    assert.equal(sink.arrivals.length, 0, 'the span left before its 10 s schedule');
    await provider.forceFlush();
    assert.equal(sink.arrivals.length, 1);
    await provider.shutdown();
  });
});
