// The measuring parts of bench:overhead, which nothing else would check: a wrong figure there is a wrong report.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packageOf, summarise } from '../bench/cpu-profile-summary.js';
import { DiscardSink } from '../bench/overhead/discard-sink.js';
import { cpuSeconds, rssMiB } from '../bench/overhead/proc.js';
import { ratio, spread } from '../bench/overhead/spread.js';
import { selectedVariants } from '../bench/overhead/variants.js';

describe('overhead bench', () => {
  it('summarises rounds as median and range, and ratios to the baseline', () => {
    assert.deepEqual(spread([5, 1, 3]), { median: 3, min: 1, max: 5 });
    assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
    assert.equal(ratio(1.5, 0.5), 3);
    assert.throws(() => spread([]));
  });

  it('counts the bytes exported to the stand-in collector and answers 200', async () => {
    const sink = await DiscardSink.start();
    try {
      const body = Buffer.alloc(70_000, 1);
      const res = await fetch(`${sink.endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      assert.equal(res.status, 200);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
      const json = await fetch(`${sink.endpoint}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceLogs":[]}' });
      assert.deepEqual(await json.json(), {});
      assert.equal(sink.bytes, 70_000 + 19);
      assert.equal(sink.requests, 2);
    } finally {
      await sink.stop();
    }
  });

  it('reads a process\'s own CPU time and resident memory from /proc', () => {
    // Spins for CPU time rather than wall time, so that a busy machine does not make the figure small.
    const before = cpuSeconds(process.pid);
    const start = process.cpuUsage();
    const spent = () => {
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1e6;
    };
    while (spent() < 0.3) Math.sqrt(Math.random());
    const node = spent();
    const proc = cpuSeconds(process.pid) - before;
    // /proc counts in clock ticks (10 ms): a tick or two either side of Node's own figure.
    assert.ok(Math.abs(proc - node) <= 0.05, `/proc ${proc} s, process.cpuUsage ${node} s`);
    const rss = rssMiB(process.pid);
    assert.ok(Math.abs(rss - process.memoryUsage().rss / 1024 / 1024) < 32, `rss ${rss} MiB`);
  });

  it('always keeps the baseline variant and names an unknown one', () => {
    assert.deepEqual(selectedVariants('lookout').map((v) => v.name), ['none', 'lookout']);
    assert.equal(selectedVariants(undefined).length, 4);
    assert.throws(() => selectedVariants('lookout,zero'), /unknown zero/);
  });

  it('charges self time to packages, leaving idle out and the first seconds when asked', () => {
    assert.equal(packageOf('file:///repo/node_modules/@opentelemetry/sdk-trace/dist/Span.cjs', 'end'), '@opentelemetry/sdk-trace');
    assert.equal(packageOf('file:///repo/node_modules/a/node_modules/winston/lib/logger.js', 'log'), 'winston');
    assert.equal(packageOf('file:///repo/instrumented-services/http-kit/dist/src/red.js', 'x'), '@lookout/http-kit');
    assert.equal(packageOf('node:events', 'emit'), 'node (core)');
    assert.equal(packageOf('', '(garbage collector)'), '(garbage collector)');
    const frame = (id: number, functionName: string, url: string) => ({ id, callFrame: { functionName, url, lineNumber: 0 } });
    const profile = {
      nodes: [frame(1, '(idle)', ''), frame(2, 'end', 'file:///r/node_modules/@opentelemetry/sdk-trace/x.cjs'), frame(3, 'get', 'file:///r/node_modules/ioredis/y.js')],
      samples: [1, 2, 3, 2],
      timeDeltas: [500_000, 1_000_000, 250_000, 750_000],
    };
    const all = summarise(profile);
    assert.equal(all.total, 2_000_000);
    assert.equal(all.byPackage.get('@opentelemetry/sdk-trace'), 1_750_000);
    const late = summarise(profile, 1.6);
    assert.equal(late.total, 1_000_000);
    assert.equal(late.byPackage.get('@opentelemetry/sdk-trace'), 750_000);
  });
});
