import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '@lookout/telemetry';
import { createServiceApp } from '../../src/app.js';
import { FaultRegistry, HTTP_FAULTS, httpFaultSpec } from '../../src/faults.js';
import { serve } from '../../src/serve.js';
import { serviceSettings } from '../../src/settings.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('serve(): shutdown with a readiness drain window', () => {
  it('reports not ready but keeps serving for READINESS_DRAIN_MS, then closes and exits 0', async () => {
    const logger = createLogger({ stream: new PassThrough().resume() });
    const http = serviceSettings({
      PORT: 0,
      HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT_MS: 5_000,
      BODY_LIMIT_BYTES: 1024,
      LOOKOUT_DEMO: false,
      ADMIN_TOKEN: undefined,
      READINESS_DRAIN_MS: 1_000,
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
