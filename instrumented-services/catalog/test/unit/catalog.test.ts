import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@lookout/config';
import { loadConfig } from '../../src/config.js';
import { likePattern } from '../../src/products-repo.js';
import { searchQuery } from '../../src/schemas.js';

describe('catalog configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    assert.equal(config.http.port, 8081);
    assert.equal(config.postgres.poolMax, 10);
    assert.equal(config.cache.ttlSeconds, 300);
  });

  it('names each bad setting', () => {
    assert.throws(
      () => loadConfig({ PG_POOL_MAX: '0', CACHE_TTL_SECONDS: 'ten', REDIS_URL: 'http://x' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.issues.map((i) => i.setting).sort(), ['CACHE_TTL_SECONDS', 'PG_POOL_MAX', 'REDIS_URL']);
        return true;
      },
    );
  });
});

describe('search input', () => {
  it('escapes LIKE wildcards so they match literally', () => {
    assert.equal(likePattern('50%_off\\'), '%50\\%\\_off\\\\%');
  });

  it('bounds page and limit', () => {
    assert.equal(searchQuery.safeParse({ limit: '1e9' }).success, false);
    assert.equal(searchQuery.safeParse({ limit: '1000000000' }).success, false);
    assert.equal(searchQuery.safeParse({ limit: '101' }).success, false);
    assert.equal(searchQuery.safeParse({ page: '0' }).success, false);
    assert.deepEqual(searchQuery.parse({}), { page: 1, limit: 20 });
  });
});
