import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@lookout/config';
import { loadConfig } from '../../src/config.js';

const OWN_KEYS = JSON.stringify([{ id: 'shop-frontend', sha256: 'a'.repeat(64), scopes: ['read', 'write'], rateLimit: { requests: 1200, windowSeconds: 60 } }]);
const DEMO_WRITER = JSON.stringify([{ id: 'w', sha256: 'd4f3256686ece9f604c2c21196beae857831de2d81e7f0311839f2cff73becbe', scopes: ['write'] }]);
const SECRET = 'x'.repeat(40);

/** The settings a ConfigError names, and its message (which must not echo secrets). */
function failure(env: NodeJS.ProcessEnv): { settings: string[]; message: string } {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return { settings: err.issues.map((i) => i.setting), message: err.message };
  }
  assert.fail('the configuration was accepted');
}

describe('gateway configuration: closed by default', () => {
  it('refuses to start without credentials outside demo mode, and says how to get the demo ones', () => {
    const { settings, message } = failure({});
    assert.deepEqual(settings, ['API_KEYS']);
    assert.match(message, /LOOKOUT_DEMO=true/);
  });

  it('serves the demo keys, the load generator\'s with its own budget, only in demo mode', () => {
    const demo = loadConfig({ LOOKOUT_DEMO: 'true' });
    assert.deepEqual(demo.auth.apiKeys.map((k) => k.id), ['demo-reader', 'demo-writer', 'demo-loadgen']);
    assert.deepEqual(demo.auth.apiKeys.find((k) => k.id === 'demo-loadgen')?.rateLimit, { requests: 60_000, windowSeconds: 60 });
    assert.equal(demo.http.adminToken, 'lookout-local-admin-token');
    const own = loadConfig({ API_KEYS: OWN_KEYS });
    assert.deepEqual(own.auth.apiKeys.map((k) => k.id), ['shop-frontend']);
    assert.deepEqual(own.auth.apiKeys[0]?.rateLimit, { requests: 1200, windowSeconds: 60 });
    assert.equal(own.http.adminToken, undefined, '/admin is on without a token');
    assert.deepEqual(own.rateLimit.client, { requests: 600, windowSeconds: 60 });
  });

  it('refuses the published demo key hashes and admin token outside demo mode', () => {
    assert.deepEqual(failure({ API_KEYS: DEMO_WRITER }).settings, ['API_KEYS']);
    assert.deepEqual(failure({ API_KEYS: OWN_KEYS, ADMIN_TOKEN: 'lookout-local-admin-token' }).settings, ['ADMIN_TOKEN']);
    assert.equal(loadConfig({ API_KEYS: DEMO_WRITER, LOOKOUT_DEMO: 'true' }).auth.apiKeys[0]?.id, 'w');
  });

  it('requires an issuer and an audience with a JWT secret, all reported at once and no secret echoed', () => {
    const { settings, message } = failure({ JWT_SECRET: SECRET });
    assert.deepEqual(settings.sort(), ['JWT_AUDIENCE', 'JWT_ISSUER']);
    assert.doesNotMatch(message, new RegExp(SECRET));
    const jwtOnly = loadConfig({ JWT_SECRET: SECRET, JWT_ISSUER: 'https://issuer.example.com/', JWT_AUDIENCE: 'lookout-api' });
    assert.deepEqual(jwtOnly.auth.apiKeys, []);
    assert.equal(jwtOnly.auth.jwt?.audience, 'lookout-api');
  });

  it('refuses duplicate client ids and malformed budgets', () => {
    const twice = JSON.stringify([...JSON.parse(OWN_KEYS) as unknown[], ...JSON.parse(OWN_KEYS) as unknown[]]);
    assert.match(failure({ API_KEYS: twice }).message, /unique \(twice: shop-frontend\)/);
    const badBudget = JSON.stringify([{ id: 'a', sha256: 'b'.repeat(64), scopes: ['read'], rateLimit: { requests: 0, windowSeconds: 60 } }]);
    assert.deepEqual(failure({ API_KEYS: badBudget }).settings, ['API_KEYS.0.rateLimit.requests']);
  });

  it('keeps a readiness drain window below half the shutdown deadline', () => {
    assert.deepEqual(failure({ LOOKOUT_DEMO: 'true', READINESS_DRAIN_MS: '6000', SHUTDOWN_TIMEOUT_MS: '10000' }).settings, ['READINESS_DRAIN_MS']);
    assert.equal(loadConfig({ LOOKOUT_DEMO: 'true', READINESS_DRAIN_MS: '3000' }).http.readinessDrainMs, 3000);
  });
});
