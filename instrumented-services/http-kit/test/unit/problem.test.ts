import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { z } from 'zod';
import { notFoundHandler, problemErrorHandler, problems, requireJsonBody, validate } from '../../src/problem.js';
import { isWellFormedText, text } from '../../src/text.js';
import type { Server } from 'node:http';

describe('problem+json error handling', () => {
  let server: Server;
  let base: string;
  const logged: string[] = [];

  before(async () => {
    const app = express();
    app.use(requireJsonBody());
    app.use(express.json({ limit: 100 }));
    app.post('/things', (req, res) => {
      const body = validate(z.strictObject({ n: z.number().int() }), req.body, 'body');
      res.json(body);
    });
    app.get('/things/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    app.get('/search', (req, res) => {
      res.json(validate(z.object({ q: text().max(20) }), req.query, 'query'));
    });
    app.get('/boom', () => {
      throw new Error('secret internals');
    });
    app.get('/db-down', () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    app.use(notFoundHandler());
    app.use(
      problemErrorHandler({
        logger: { error: (m) => logged.push(m), warn: (m) => logged.push(m) },
        classify: (err) =>
          (err as { code?: unknown }).code === 'ECONNREFUSED' ? problems.dependencyUnavailable('postgres', 2, err) : undefined,
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  async function call(path: string, init?: RequestInit) {
    const res = await fetch(`${base}${path}`, init);
    return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }
  const post = (body: string, type = 'application/json') =>
    call('/things', { method: 'POST', headers: { 'content-type': type }, body });

  it('answers malformed JSON with 400', async () => {
    const r = await post('{"n":');
    assert.equal(r.status, 400);
    assert.match(r.type ?? '', /^application\/problem\+json/);
    assert.equal(r.body.type, 'urn:lookout:problem:malformed-json');
  });

  it('answers a body that does not decode as its Content-Encoding says with 400, not 500', async () => {
    const order = Buffer.from(JSON.stringify({ n: 1 }));
    for (const [encoding, body] of [['gzip', Buffer.from('not gzip')], ['deflate', Buffer.from('not deflate')], ['br', Buffer.from('not br')], ['gzip', gzipSync(order).subarray(0, 10)]] as const) {
      const r = await call('/things', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body });
      assert.equal(r.status, 400, encoding);
      assert.equal(r.body.type, 'urn:lookout:problem:bad-request');
    }
    const valid = await call('/things', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(order) });
    assert.deepEqual(valid.body, { n: 1 });
  });

  it('answers an oversized body with 413', async () => {
    assert.equal((await post(JSON.stringify({ n: 1, pad: 'x'.repeat(200) }))).status, 413);
  });

  it('answers a non-JSON body with 415', async () => {
    assert.equal((await post('n=1', 'application/x-www-form-urlencoded')).status, 415);
  });

  it('lists every invalid field with 400', async () => {
    const r = await post(JSON.stringify({ n: 1.5, extra: true }));
    assert.equal(r.status, 400);
    const errors = r.body.errors as { in: string; field: string }[];
    assert.ok(errors.some((e) => e.in === 'body' && e.field === 'n'));
    assert.ok(errors.length >= 2, 'the unknown key is reported too');
  });

  it('answers a path parameter that is not valid percent-encoding with 400, not 500, without echoing it', async () => {
    for (const path of ['/things/%FF', '/things/%E0%A4%A', '/things/%']) {
      const r = await call(path);
      assert.equal(r.status, 400, path);
      assert.equal(r.body.type, 'urn:lookout:problem:validation-failed');
      assert.deepEqual(r.body.errors, [{ in: 'path', field: '', message: 'must be valid percent-encoded UTF-8' }]);
      assert.doesNotMatch(JSON.stringify(r.body), /Failed to decode/);
    }
    assert.equal((await call('/things/%C3%A9')).body.id, 'é');
  });

  it('answers a NUL, invalid UTF-8 or a lone surrogate in text with 400 naming the parameter', async () => {
    for (const query of ['q=a%00b', 'q=%FF%FE', 'q=%ED%A0%80']) {
      const r = await call(`/search?${query}`);
      assert.equal(r.status, 400, query);
      assert.deepEqual(r.body.errors, [{ in: 'query', field: 'q', message: 'must be valid UTF-8 text without NUL characters' }]);
    }
    assert.deepEqual((await call(`/search?q=${encodeURIComponent('café 🍵')}`)).body, { q: 'café 🍵' });
    assert.equal(isWellFormedText('\ud800'), false);
    assert.equal(isWellFormedText('x\udc00'), false);
    assert.equal(isWellFormedText('🍵'), true);
  });

  it('answers unknown routes with 404 problem', async () => {
    const r = await call('/nowhere');
    assert.equal(r.status, 404);
    assert.equal(r.body.instance, '/nowhere');
  });

  it('maps an unreachable database to 503 with Retry-After', async () => {
    const r = await call('/db-down');
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '2');
    assert.equal(r.body.dependency, 'postgres');
  });

  it('hides internals of unexpected errors behind a logged 500', async () => {
    const r = await call('/boom');
    assert.equal(r.status, 500);
    assert.doesNotMatch(JSON.stringify(r.body), /secret internals/);
    assert.ok(logged.includes('request failed'));
  });
});
