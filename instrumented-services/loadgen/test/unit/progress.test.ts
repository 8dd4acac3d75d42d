import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressReporter, type ProgressStream } from '../../src/progress.js';
import type { Progress } from '../../src/runner.js';
import { RunStats } from '../../src/stats.js';

/** Carriage return, then erase to the end of the line. */
const REWRITE = '\r\u001b[K';

class Capture implements ProgressStream {
  readonly writes: string[] = [];
  constructor(readonly isTTY: boolean) {}
  write(text: string): boolean {
    this.writes.push(text);
    return true;
  }
}

/** Two seconds of a run: a slow, failing first second and a fast, clean second one. */
function twoIntervals(): Progress[] {
  const stats = new RunStats(0);
  const at = (elapsedSeconds: number): Progress => ({ elapsedSeconds, targetRate: 50, inFlight: 3, interval: stats.takeInterval(elapsedSeconds * 1000), stats });
  for (let i = 0; i < 40; i++) stats.record(i < 4 ? '500' : '200', 250);
  const first = at(1);
  for (let i = 0; i < 50; i++) stats.record('200', 2);
  return [first, at(2)];
}

describe('progress', () => {
  it('on a terminal rewrites one line in place with the last interval rate, errors and p99, and ends it once', () => {
    const out = new Capture(true);
    const reporter = new ProgressReporter(out);
    assert.equal(reporter.inPlace, true);
    for (const p of twoIntervals()) reporter.report(p);
    reporter.end();
    assert.equal(out.writes.length, 3);
    const [first, second, last] = out.writes;
    for (const line of [first, second]) assert.ok(line?.startsWith(REWRITE), `not rewritten in place: ${JSON.stringify(line)}`);
    assert.match(first ?? '', /\[ {4}1s\] 40\.0 req\/s \(target 50\.0\) \| errors 4 \| p99 250 ms \|/);
    assert.match(second ?? '', /\[ {4}2s\] 50\.0 req\/s \(target 50\.0\) \| errors 0 \| p99 2 ms \|.*total 90 done, 4 errors/);
    assert.ok(!(first ?? '').includes('\n') && !(second ?? '').includes('\n'), 'a rewritten line ends a line');
    assert.equal(last, '\n');
  });

  it('elsewhere writes plain lines, no carriage returns or escapes', () => {
    const out = new Capture(false);
    const reporter = new ProgressReporter(out);
    assert.equal(reporter.inPlace, false);
    for (const p of twoIntervals()) reporter.report(p);
    reporter.end();
    assert.equal(out.writes.length, 2);
    for (const line of out.writes) {
      assert.match(line, /^\[ {4}\ds\] .* req\/s .*\n$/);
      assert.ok(!line.includes('\r') && !line.includes('\u001b'), JSON.stringify(line));
    }
  });
});
