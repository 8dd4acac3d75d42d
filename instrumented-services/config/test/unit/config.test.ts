import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, envBool, envInt, envUrl, parseEnv } from '../../src/config.js';

const schema = z.object({
  PORT: envInt(8080, 0, 65535),
  DEBUG: envBool(false),
  DATABASE_URL: envUrl('postgres://localhost/x', ['postgres:']),
});

function issuesOf(env: NodeJS.ProcessEnv) {
  try {
    parseEnv(schema, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('parseEnv', () => {
  it('applies defaults, and treats empty values as unset', () => {
    assert.deepEqual(parseEnv(schema, { PORT: '', DEBUG: ' ' }), {
      PORT: 8080,
      DEBUG: false,
      DATABASE_URL: 'postgres://localhost/x',
    });
  });

  it('parses valid values', () => {
    assert.deepEqual(parseEnv(schema, { PORT: '9000', DEBUG: 'yes', DATABASE_URL: 'postgres://db/y' }), {
      PORT: 9000,
      DEBUG: true,
      DATABASE_URL: 'postgres://db/y',
    });
  });

  it('names every bad setting with what was expected and what was given', () => {
    const err = issuesOf({ PORT: 'eighty', DEBUG: 'maybe' });
    assert.deepEqual(
      err.issues.map((i) => i.setting),
      ['PORT', 'DEBUG'],
    );
    assert.match(err.message, /PORT: expected an integer from 0 to 65535 \(got "eighty"\)/);
    assert.match(err.message, /DEBUG: .*\(got "maybe"\)/);
  });

  it('rejects out-of-range numbers', () => {
    assert.match(issuesOf({ PORT: '70000' }).message, /PORT: .*65535/);
    assert.match(issuesOf({ PORT: '-1' }).message, /PORT: /);
  });

  it('rejects a URL with the wrong scheme without echoing it, since URLs carry credentials', () => {
    const err = issuesOf({ DATABASE_URL: 'mysql://root:secret@db/x' });
    assert.equal(err.issues[0]?.setting, 'DATABASE_URL');
    assert.match(err.message, /expected a URL with scheme postgres:/);
    assert.doesNotMatch(err.message, /secret/);
  });
});
