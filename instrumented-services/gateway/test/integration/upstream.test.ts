import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fetchJson, OtlpSink, READ_KEY, RedisServer, serviceEntry, ServiceProcess, type JsonAnswer } from '@lookout/testkit';

const PROBLEM = { 'content-type': 'application/problem+json' };

describe('gateway against a failing upstream', () => {
  // Stands in for the catalog, the gateway's peer: how it answers is what is under test here.
  let fake: Server;
  let attempts = 0;
  /** The headers of each attempt the fake received. */
  let seen: IncomingHttpHeaders[] = [];
  let answer: (res: ServerResponse) => void = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  let redis: RedisServer;
  let sink: OtlpSink;
  let gateway: ServiceProcess;

  before(async () => {
    fake = createServer((req, res) => {
      attempts += 1;
      seen.push(req.headers);
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
    seen = [];
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

  describe('the deadline it gives each attempt (request-timeout-ms)', () => {
    const budgetOf = (headers: IncomingHttpHeaders | undefined) => Number(headers?.['request-timeout-ms']);

    it('tells the upstream the attempt timeout minus a margin, and never forwards a client value', async () => {
      answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      assert.equal((await get()).status, 200);
      const budget = budgetOf(seen[0]);
      // UPSTREAM_TIMEOUT_MS 1000, less the 50 ms margin: the upstream answers before the gateway gives up on it.
      assert.ok(budget > 900 && budget <= 950, `the upstream was given ${String(seen[0]?.['request-timeout-ms'])}`);
      for (const client of ['1', '0', '86400000', 'garbage']) {
        seen = [];
        const r = await fetchJson(`${gateway.baseUrl}/api/products/1`, { headers: { 'x-api-key': READ_KEY, 'request-timeout-ms': client } });
        assert.equal(r.status, 200, `client value ${client}: ${JSON.stringify(r.body)}`);
        const forwarded = budgetOf(seen[0]);
        assert.ok(forwarded > 900 && forwarded <= 950, `a client's ${client} became ${String(seen[0]?.['request-timeout-ms'])}`);
      }
      // The gateway's own bookkeeping of the call's end stays inside it.
      assert.ok(seen.every((h) => Object.keys(h).every((name) => !name.startsWith('lookout-gateway'))), JSON.stringify(seen));
    });

    it('gives each retry a budget of its own', async () => {
      answer = (res) => res.writeHead(503, PROBLEM).end('{"status":503}');
      assert.equal((await get()).status, 503);
      assert.equal(seen.length, 3);
      for (const headers of seen) {
        const budget = budgetOf(headers);
        assert.ok(budget > 0 && budget <= 950, `an attempt was given ${String(headers['request-timeout-ms'])}`);
      }
    });

    it('passes an upstream deadline answer (504 with Retry-After) on as 504 without retrying it', async () => {
      answer = (res) =>
        res
          .writeHead(504, { ...PROBLEM, 'retry-after': '1' })
          .end('{"type":"urn:lookout:problem:deadline-exceeded","title":"Deadline exceeded","status":504,"stage":"postgres-pool"}');
      const r = await get();
      assert.equal(r.status, 504);
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(attempts, 1, 'an attempt that used its whole budget was retried');
    });
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
