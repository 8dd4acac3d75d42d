import assert from 'node:assert/strict';
import { it } from 'node:test';
import { envErrorFailures } from '@lookout/testkit';
import { loadConfig, schema } from '../../src/config.js';

it('refuses every invalid environment variable at start-up by name, alone or all at once, without repeating secrets', () => {
  assert.deepEqual(envErrorFailures(schema, loadConfig, { LOADGEN_API_KEY: 'a key is any text; the gateway judges it' }), []);
});
