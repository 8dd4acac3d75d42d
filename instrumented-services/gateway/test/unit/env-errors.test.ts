import assert from 'node:assert/strict';
import { it } from 'node:test';
import { envErrorFailures } from '@lookout/testkit';
import { loadConfig, schema } from '../../src/config.js';

it('refuses every invalid environment variable at start-up by name, alone or all at once, without repeating secrets', () => {
  assert.deepEqual(
    envErrorFailures(schema, loadConfig, {
      JWT_ISSUER: 'the issuer tokens must name: any text',
      JWT_AUDIENCE: 'the audience tokens must name: any text',
    }),
    [],
  );
});
