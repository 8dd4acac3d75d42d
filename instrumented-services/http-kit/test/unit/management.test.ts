import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ConfigError, parseEnv } from '@lookout/config';
import { createLogger } from '@lookout/telemetry';
import { z } from 'zod';
import { createServiceApp } from '../../src/app.js';
import { FaultRegistry, HTTP_FAULTS, httpFaultSpec } from '../../src/faults.js';
import { serve } from '../../src/serve.js';
import { serviceEnv, serviceSettings } from '../../src/settings.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ADMIN = 'an-admin-token-for-this-test';

function settings(env: Record<string, string>) {
  return serviceSettings(parseEnv(z.object(serviceEnv(8080)), { HOST: '127.0.0.1', PORT: '0', ADMIN_TOKEN: ADMIN, ACCESS_LOG_LEVEL: 'off', ...env }));
}

describe('MANAGEMENT_PORT and MANAGEMENT_HOST', () => {
  it('are unset by default: everything on PORT', () => {
    assert.equal(settings({}).managementListener, undefined);
  });

  it('listen on loopback by default, on the host given otherwise', () => {
    assert.deepEqual(settings({ MANAGEMENT_PORT: '9180' }).managementListener, { port: 9180, host: '127.0.0.1' });
    assert.deepEqual(settings({ MANAGEMENT_PORT: '9180', MANAGEMENT_HOST: '0.0.0.0' }).managementListener, { port: 9180, host: '0.0.0.0' });
  });

  it('refuse a port that is not one, PORT itself, or a host that is not one, naming the setting', () => {
    for (const bad of ['http', '-1', '65536']) {
      assert.throws(() => settings({ MANAGEMENT_PORT: bad }), (err: ConfigError) => err.issues.some((i) => i.setting === 'MANAGEMENT_PORT'), bad);
    }
    for (const bad of ['-1', 'http://0.0.0.0', 'a b']) {
      assert.throws(() => settings({ MANAGEMENT_HOST: bad }), (err: ConfigError) => err.issues.some((i) => i.setting === 'MANAGEMENT_HOST'), bad);
    }
    for (const good of ['0.0.0.0', '::', '::1', 'localhost', 'gateway-1.internal']) assert.equal(settings({ MANAGEMENT_PORT: '1', MANAGEMENT_HOST: good }).managementListener?.host, good);
    assert.throws(() => settings({ PORT: '8080', MANAGEMENT_PORT: '8080' }), (err: ConfigError) => err.issues[0]?.setting === 'MANAGEMENT_PORT');
  });
});

describe('serve() with a management listener', () => {
  it('serves /metrics, /readyz and /admin only there, /healthz on both, logs both ports, drains and closes both', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    const logger = createLogger({ stream });
    const http = settings({ MANAGEMENT_PORT: '0', READINESS_DRAIN_MS: '600', SHUTDOWN_TIMEOUT_MS: '5000' });
    const { app, lifecycle, management } = createServiceApp({
      http,
      logger,
      checks: [],
      faults: new FaultRegistry(httpFaultSpec, HTTP_FAULTS, logger),
      mount: (a) => a.get('/work', (_req, res) => void res.json({ ok: true })),
    });
    assert.ok(management, 'no management application although MANAGEMENT_PORT is set');
    let exitCode: number | undefined;
    const running = await serve(app, { ...http, management, logger, lifecycle, exit: (code) => (exitCode = code) });
    assert.ok(running.managementPort !== undefined && running.managementPort !== running.port);
    const pub = `http://127.0.0.1:${running.port}`;
    const mgmt = `http://127.0.0.1:${running.managementPort}`;
    await sleep(20);
    const listening = lines.find((l) => l.message === 'listening');
    assert.ok(listening, 'no listening line');
    assert.equal(listening.port, running.port);
    assert.equal(listening.management_port, running.managementPort);
    assert.equal(listening.management_host, '127.0.0.1');

    const auth = { authorization: `Bearer ${ADMIN}` };
    for (const path of ['/metrics', '/readyz', '/admin/faults']) {
      const res = await fetch(`${pub}${path}`, { headers: auth });
      assert.equal(res.status, 404, `public ${path}`);
      assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
      assert.equal((await fetch(`${mgmt}${path}`, { headers: auth })).status, 200, `management ${path}`);
    }
    assert.equal((await fetch(`${pub}/healthz`)).status, 200);
    assert.equal((await fetch(`${mgmt}/healthz`)).status, 200);
    assert.equal((await fetch(`${pub}/work`)).status, 200);
    assert.equal((await fetch(`${mgmt}/work`)).status, 404, 'the service\'s routes are not on the management port');
    // POST /admin/faults parses its JSON body there.
    const on = await fetch(`${mgmt}/admin/faults`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'errors', ratio: 1, status: 503, durationSeconds: 60 }),
    });
    assert.equal(on.status, 201);
    assert.equal((await fetch(`${pub}/work`)).status, 503, 'the fault applies to the public port');
    assert.equal((await fetch(`${mgmt}/readyz`)).status, 200, 'faults never touch the management port');
    assert.equal((await fetch(`${mgmt}/admin/faults/errors`, { method: 'DELETE', headers: auth })).status, 204);

    const done = running.shutdown('test');
    await sleep(200);
    const draining = await fetch(`${mgmt}/readyz`, { headers: { connection: 'close' } });
    assert.equal(draining.status, 503);
    assert.equal(((await draining.json()) as { status: string }).status, 'draining');
    assert.equal((await fetch(`${pub}/work`, { headers: { connection: 'close' } })).status, 200, 'the public port serves during the drain');
    await done;
    assert.equal(exitCode, 0);
    await assert.rejects(fetch(`${pub}/healthz`), 'the public listener still accepts after shutdown');
    await assert.rejects(fetch(`${mgmt}/healthz`), 'the management listener still accepts after shutdown');
  });

  it('refuses to start when MANAGEMENT_PORT is set but the service passed no management application', async () => {
    const logger = createLogger({ stream: new PassThrough().resume() });
    const http = settings({ MANAGEMENT_PORT: '0' });
    const { app, lifecycle } = createServiceApp({ http, logger, checks: [], faults: new FaultRegistry(httpFaultSpec, HTTP_FAULTS, logger), mount: () => undefined });
    await assert.rejects(serve(app, { ...http, logger, lifecycle, exit: () => undefined }), /management application/);
  });
});
