import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { REDACTED, redactString, redactValue } from '../../src/redact.js';

function captureLogger() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  const logger = createLogger({ stream, level: 'debug', service: 'unit' });
  return { logger, lines: () => lines.filter((l) => !String(l.message).startsWith('telemetry is not started')) };
}

describe('redaction', () => {
  it('replaces authorization headers, cookies, passwords and tokens by field name, at any depth', () => {
    const input = {
      headers: {
        authorization: 'Bearer abc.def.ghi',
        Cookie: 'session=123',
        'set-cookie': ['a=1'],
        'x-api-key': 'k-123',
        accept: 'application/json',
      },
      user: { password: 'hunter2', newPassword: 'x', name: 'Ann' },
      access_token: 'tok',
      refreshToken: 'tok2',
      client_secret: 's',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    };
    assert.deepEqual(redactValue(input), {
      headers: {
        authorization: REDACTED,
        Cookie: REDACTED,
        'set-cookie': REDACTED,
        'x-api-key': REDACTED,
        accept: 'application/json',
      },
      user: { password: REDACTED, newPassword: REDACTED, name: 'Ann' },
      access_token: REDACTED,
      refreshToken: REDACTED,
      client_secret: REDACTED,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
  });

  it('masks e-mail addresses, bearer tokens, JWTs and URL credentials inside free text', () => {
    assert.equal(redactString('order for jane.doe+shop@example.co.uk placed'), 'order for [REDACTED:email] placed');
    assert.equal(redactString('header was Bearer eyJhbGciOi.x'), `header was Bearer ${REDACTED}`);
    assert.equal(
      redactString('token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'),
      `token ${REDACTED}`,
    );
    assert.equal(redactString('connect postgres://app:s3cret@db:5432/x failed'), `connect postgres://${REDACTED}@db:5432/x failed`);
    assert.equal(redactString('nothing to hide here'), 'nothing to hide here');
  });

  it('does not mutate the caller\'s objects and survives cycles', () => {
    const original: Record<string, unknown> = { password: 'p', nested: { email: 'a@b.io' } };
    original.self = original;
    const copy = redactValue(original) as Record<string, unknown>;
    assert.equal(original.password, 'p');
    assert.deepEqual(original.nested, { email: 'a@b.io' });
    assert.equal(copy.self, '[Circular]');
    assert.deepEqual(copy.nested, { email: '[REDACTED:email]' });
  });

  it('keeps an Error readable while redacting its message and stack', () => {
    const out = redactValue(new Error('login failed for bob@example.com')) as Record<string, unknown>;
    assert.equal(out.name, 'Error');
    assert.equal(out.message, 'login failed for [REDACTED:email]');
    assert.doesNotMatch(String(out.stack), /bob@example\.com/);
  });
});

describe('createLogger', () => {
  it('writes one JSON object per line with timestamp, level, service, message and fields', async () => {
    const { logger, lines } = captureLogger();
    logger.info('order placed', { order_id: 42, items: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    const [line] = lines();
    assert.ok(line);
    assert.equal(line.level, 'info');
    assert.equal(line.message, 'order placed');
    assert.equal(line.service, 'unit');
    assert.equal(line.order_id, 42);
    assert.ok(!Number.isNaN(Date.parse(String(line.timestamp))), 'timestamp is not a date');
  });

  it('redacts secrets and e-mail addresses from the message and fields before writing', async () => {
    const { logger, lines } = captureLogger();
    const headers = { authorization: 'Basic dXNlcjpwYXNz', cookie: 'sid=1' };
    logger.warn('login by carol@example.org failed', { headers, password: 'pw', customer: { email: 'carol@example.org' } });
    await new Promise((resolve) => setImmediate(resolve));
    const text = JSON.stringify(lines());
    for (const secret of ['dXNlcjpwYXNz', 'sid=1', '"pw"', 'carol@example.org']) {
      assert.ok(!text.includes(secret), `${secret} leaked into ${text}`);
    }
    assert.equal(headers.authorization, 'Basic dXNlcjpwYXNz', 'the caller\'s object was mutated');
  });

  it('logs an Error with its stack', async () => {
    const { logger, lines } = captureLogger();
    logger.error('boom', { err: new Error('kaput') });
    await new Promise((resolve) => setImmediate(resolve));
    const err = lines()[0]?.err as Record<string, unknown> | undefined;
    assert.equal(err?.message, 'kaput');
    assert.match(String(err.stack), /Error: kaput/);
  });
});
