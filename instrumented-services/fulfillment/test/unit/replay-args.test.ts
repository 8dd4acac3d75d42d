import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseReplayArgs } from '../../src/replay-dlq.js';

it('reads --limit and --dry-run, and refuses anything else', () => {
  assert.deepEqual(parseReplayArgs([]), { limit: Number.MAX_SAFE_INTEGER, 'dry-run': false, help: false });
  assert.deepEqual(parseReplayArgs(['--limit', '5', '--dry-run']), { limit: 5, 'dry-run': true, help: false });
  assert.equal(parseReplayArgs(['--limit=12']).limit, 12);
  for (const bad of [['--limit', '0'], ['--limit', '2.5'], ['--limit', 'many'], ['--limit', ''], ['--force'], ['extra']]) {
    assert.throws(() => parseReplayArgs(bad), Error, bad.join(' '));
  }
});
