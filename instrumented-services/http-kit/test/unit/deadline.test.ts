import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { parseEnv } from '@lookout/config';
import { createLogger } from '@lookout/telemetry';
import { z } from 'zod';
import { createServiceApp } from '../../src/app.js';
import {
  checkDeadline,
  parseRequestTimeout,
  remainingMs,
  REQUEST_TIMEOUT_HEADER,
  runWithDeadline,
  withinDeadline,
} from '../../src/deadline.js';
import { FaultRegistry, HTTP_FAULTS, httpFaultSpec } from '../../src/faults.js';
import { HttpProblem } from '../../src/problem.js';
import { serviceEnv, serviceSettings } from '../../src/settings.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('parseRequestTimeout', () => {
  it('takes one non-negative integer of milliseconds, capped at the service maximum', () => {
    assert.equal(parseRequestTimeout('250', 10_000), 250);
    assert.equal(parseRequestTimeout(' 250 ', 10_000), 250);
    assert.equal(parseRequestTimeout('0', 10_000), 0, '0 is a deadline already passed');
    assert.equal(parseRequestTimeout('999999999', 10_000), 10_000, 'a caller cannot ask for more than the cap');
    assert.equal(parseRequestTimeout('10001', 10_000), 10_000);
  });

  it('ignores garbage, negative, fractional, overlong and repeated values instead of failing', () => {
    for (const bad of ['', 'abc', '-5', '-0', '1.5', '1e3', '0x10', '12ms', 'Infinity', 'NaN', '1234567890123', '100, 200', '١٢٣']) {
      assert.equal(parseRequestTimeout(bad, 10_000), undefined, JSON.stringify(bad));
    }
    assert.equal(parseRequestTimeout(undefined, 10_000), undefined);
    assert.equal(parseRequestTimeout(['100', '200'], 10_000), undefined);
  });
});

describe('the deadline of a piece of work', () => {
  it('is absent outside a request: nothing is bounded', async () => {
    assert.equal(remainingMs(), undefined);
    checkDeadline('nothing');
    assert.equal(await withinDeadline(sleep(30).then(() => 'done'), 'nothing'), 'done');
  });

  it('ends a wait at the deadline with a 504 problem, and hands a late value to onLate', async () => {
    let late: string | undefined;
    const started = performance.now();
    const waited = runWithDeadline(100, () =>
      withinDeadline(
        sleep(400).then(() => 'value'),
        'unit-wait',
        (v) => (late = v),
      ),
    );
    await assert.rejects(waited, (err: HttpProblem) => {
      assert.equal(err.status, 504);
      assert.equal(err.type, 'urn:lookout:problem:deadline-exceeded');
      assert.equal(err.extensions.stage, 'unit-wait');
      assert.equal(err.headers['Retry-After'], '1');
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 95 && elapsed < 300, `gave up after ${elapsed} ms`);
    assert.equal(late, undefined);
    await sleep(400);
    assert.equal(late, 'value');
  });

  it('refuses at once when already out of time', async () => {
    await runWithDeadline(0, async () => {
      assert.throws(() => checkDeadline('unit-check'), HttpProblem);
      await assert.rejects(withinDeadline(Promise.resolve(1), 'unit'), HttpProblem);
    });
  });
});

describe('request-timeout-ms through createServiceApp', () => {
  const lines: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const logger = createLogger({ stream });
  let dependencyCalls = 0;
  const servers: Server[] = [];
  const urls: Record<'service' | 'edge', string> = { service: '', edge: '' };

  async function start(edge: boolean): Promise<string> {
    const http = serviceSettings(
      parseEnv(z.object(serviceEnv(8080)), { HOST: '127.0.0.1', PORT: '0', ACCESS_LOG_LEVEL: 'off', REQUEST_TIMEOUT_MS: '3000' }),
    );
    const { app } = createServiceApp({
      http,
      logger,
      checks: [],
      faults: new FaultRegistry(httpFaultSpec, HTTP_FAULTS, logger),
      edge,
      mount: (a) => {
        // What a handler sees, after the JSON body parser (which does not keep an AsyncLocalStorage context).
        a.post('/budget', (req, res) => {
          dependencyCalls += 1;
          res.json({ remaining: remainingMs(), body: req.body as unknown });
        });
      },
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  before(async () => {
    urls.service = await start(false);
    urls.edge = await start(true);
  });
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const post = async (base: string, timeout?: string) => {
    const res = await fetch(`${base}/budget`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(timeout !== undefined && { [REQUEST_TIMEOUT_HEADER]: timeout }) },
      body: JSON.stringify({ some: 'body' }),
    });
    return { status: res.status, type: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
  };

  it('gives the handler the header budget, the service maximum without one, and caps one above it', async () => {
    const asked = await post(urls.service, '800');
    assert.equal(asked.status, 200);
    assert.deepEqual(asked.body.body, { some: 'body' });
    const remaining = asked.body.remaining as number;
    assert.ok(remaining > 600 && remaining <= 800, `remaining ${remaining}`);
    const none = (await post(urls.service)).body.remaining as number;
    assert.ok(none > 2_800 && none <= 3_000, `without a header: ${none}`);
    const huge = (await post(urls.service, '86400000')).body.remaining as number;
    assert.ok(huge > 2_800 && huge <= 3_000, `capped: ${huge}`);
    for (const garbage of ['-1', 'soon', '1.5']) {
      const r = await post(urls.service, garbage);
      assert.equal(r.status, 200, garbage);
      assert.ok((r.body.remaining as number) > 2_800, `${garbage} is ignored`);
    }
  });

  it('answers a request already out of time at once with 504 problem+json, without running the handler, and logs it', async () => {
    const callsBefore = dependencyCalls;
    const r = await post(urls.service, '0');
    assert.equal(r.status, 504);
    assert.match(r.type ?? '', /^application\/problem\+json/);
    assert.equal(r.body.type, 'urn:lookout:problem:deadline-exceeded');
    assert.equal(r.body.stage, 'arrival');
    assert.equal(r.body.budgetMs, 0);
    assert.equal(r.retryAfter, '1');
    assert.equal(dependencyCalls, callsBefore, 'the handler ran although the deadline had passed');
    assert.ok(
      lines.some((l) => l.message === 'request failed' && l.problem_type === 'urn:lookout:problem:deadline-exceeded'),
      'no log line names the deadline',
    );
  });

  it('at the edge, ignores a client value: the service maximum applies', async () => {
    const r = await post(urls.edge, '0');
    assert.equal(r.status, 200);
    assert.ok((r.body.remaining as number) > 2_800);
    const small = await post(urls.edge, '5');
    assert.ok((small.body.remaining as number) > 2_800);
  });
});
