import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger } from '@lookout/telemetry';
import { createServiceApp } from '../../src/app.js';
import { FaultRegistry, HTTP_FAULTS, httpFaultSpec } from '../../src/faults.js';
import { serve } from '../../src/serve.js';
import { serviceSettings } from '../../src/settings.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setup(overrides: { PORT?: number; READINESS_DRAIN_MS?: number } = {}) {
  const logger = createLogger({ stream: new PassThrough().resume() });
  const http = serviceSettings({
    PORT: overrides.PORT ?? 0,
    HOST: '127.0.0.1',
    SHUTDOWN_TIMEOUT_MS: 5_000,
    BODY_LIMIT_BYTES: 1024,
    LOOKOUT_DEMO: false,
    ADMIN_TOKEN: undefined,
    READINESS_DRAIN_MS: overrides.READINESS_DRAIN_MS ?? 0,
    ACCESS_LOG_LEVEL: 'off',
    ACCESS_LOG_SAMPLE_RATIO: 1,
  });
  const { app, lifecycle } = createServiceApp({
    http,
    logger,
    checks: [],
    faults: new FaultRegistry(httpFaultSpec, HTTP_FAULTS, logger),
    mount: (a) => a.get('/work', (_req, res) => void res.json({ ok: true })),
  });
  return { app, lifecycle, http, logger };
}

/** Sends raw bytes (what fetch would refuse to send) and returns the raw answer. */
function raw(port: number, request: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer')));
  });
}

describe('serve(): what Node refuses before the application, and listen failures', () => {
  it('answers malformed HTTP and an unsupported Expect with problem+json, and names the setting it cannot listen on', async () => {
    const { app, lifecycle, http, logger } = setup();
    const running = await serve(app, { ...http, logger, lifecycle, exit: () => undefined });
    try {
      const badPath = await raw(running.port, Buffer.concat([Buffer.from('GET /work'), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
      assert.match(badPath, /^HTTP\/1\.1 400 /);
      assert.match(badPath, /content-type: application\/problem\+json/i);
      assert.match(badPath, /"status":400/);
      const expectation = await raw(running.port, 'GET /work HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nConnection: close\r\n\r\n');
      assert.match(expectation, /^HTTP\/1\.1 417 /);
      assert.match(expectation, /"type":"urn:lookout:problem:expectation-failed"/);

      const taken = setup({ PORT: running.port });
      await assert.rejects(
        serve(taken.app, { ...taken.http, logger: taken.logger, lifecycle: taken.lifecycle, exit: () => undefined }),
        new RegExp(`cannot listen on HOST=127\\.0\\.0\\.1 PORT=${running.port}: EADDRINUSE`),
      );
    } finally {
      await running.shutdown('test');
    }
  });
});

describe('serve(): shutdown with a readiness drain window', () => {
  it('reports not ready but keeps serving for READINESS_DRAIN_MS, then closes and exits 0', async () => {
    const { app, lifecycle, http, logger } = setup({ READINESS_DRAIN_MS: 1_000 });
    let exitCode: number | undefined;
    const running = await serve(app, { ...http, logger, lifecycle, exit: (code) => (exitCode = code) });
    const base = `http://127.0.0.1:${running.port}`;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);

    const started = performance.now();
    const done = running.shutdown('test');
    await sleep(200);
    // Within the window: readiness fails, so a load balancer stops routing here, but a request already on its way
    // (here: on a new connection) is still served.
    const readiness = await fetch(`${base}/readyz`);
    assert.equal(readiness.status, 503);
    assert.equal(((await readiness.json()) as { status: string }).status, 'draining');
    assert.equal((await fetch(`${base}/work`, { headers: { connection: 'close' } })).status, 200);
    assert.equal(exitCode, undefined);

    await done;
    assert.ok(performance.now() - started >= 1_000, 'the listener closed before the drain window ended');
    assert.equal(exitCode, 0);
    await assert.rejects(fetch(`${base}/work`), 'the listener still accepts after shutdown');
  });
});
