import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fetchJson, OtlpSink, READ_KEY, RedisServer, serviceEntry, ServiceProcess, type JsonAnswer } from '@lookout/testkit';

const PROBLEM = { 'content-type': 'application/problem+json' };

describe('gateway against a failing upstream', () => {
  // Stands in for the catalog, the gateway's peer: how it answers is what is under test here.
  let fake: Server;
  let attempts = 0;
  let answer: (res: ServerResponse) => void = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  let redis: RedisServer;
  let sink: OtlpSink;
  let gateway: ServiceProcess;

  before(async () => {
    fake = createServer((req, res) => {
      attempts += 1;
      req.resume();
      answer(res);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    [redis, sink] = await Promise.all([RedisServer.create(), OtlpSink.start()]);
    gateway = await ServiceProcess.start(serviceEntry('gateway'), {
      ...sink.env,
      REDIS_URL: redis.url,
      CATALOG_URL: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
      ORDERS_URL: 'http://127.0.0.1:9',
      UPSTREAM_RETRIES: '2',
      UPSTREAM_TIMEOUT_MS: '1000',
      RATE_LIMIT_REQUESTS: '100000',
      LOOKOUT_DEMO: 'true',
    });
  });
  after(async () => {
    await gateway.stop();
    fake.closeAllConnections();
    await new Promise((resolve) => fake.close(resolve));
    await Promise.all([redis.destroy(), sink.stop()]);
  });
  beforeEach(() => {
    attempts = 0;
  });

  const get = (): Promise<JsonAnswer> => fetchJson(`${gateway.baseUrl}/api/products/1`, { headers: { 'x-api-key': READ_KEY } });

  it('passes a 503 with Retry-After on to the client at once, without retrying it', async () => {
    answer = (res) => res.writeHead(503, { ...PROBLEM, 'retry-after': '7' }).end('{"status":503}');
    const r = await get();
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '7');
    assert.equal(r.body.upstream, 'catalog');
    assert.equal(attempts, 1, 'the gateway retried although the upstream asked to be left alone for 7 s');
  });

  it('passes a 429 with Retry-After on as it is, without retrying it', async () => {
    answer = (res) => res.writeHead(429, { ...PROBLEM, 'retry-after': '3' }).end('{"status":429}');
    const r = await get();
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '3');
    assert.equal(attempts, 1);
  });

  it('still retries a 503 without Retry-After', async () => {
    answer = (res) => res.writeHead(503, PROBLEM).end('{"status":503}');
    const r = await get();
    assert.equal(r.status, 503);
    assert.equal(attempts, 3);
  });

  it('retries at most about a tenth of the requests when every attempt fails', async () => {
    answer = (res) => res.writeHead(502, PROBLEM).end('{"status":502}');
    const requests = 100;
    for (let i = 0; i < requests; i++) assert.equal((await get()).status, 502);
    const retries = attempts - requests;
    // The budget: 10% of the last 10 s of requests plus 10 retries per 10 s (twice, should the loop outlast one
    // window). Without it, each request would be tried 3 times: 200 retries.
    assert.ok(retries > 0, 'nothing was retried');
    assert.ok(retries <= Math.ceil(requests * 0.1) + 20, `${retries} retries for ${requests} requests`);
  });
});
