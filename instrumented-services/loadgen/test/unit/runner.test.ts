import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseMix } from '../../src/mix.js';
import { rateFraction } from '../../src/profiles.js';
import { checkTarget, runLoad, type Progress, type RunOptions } from '../../src/runner.js';

describe('load runner against a local server', () => {
  let server: Server;
  let base: string;
  const arrivals: number[] = [];
  const paths: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      arrivals.push(performance.now());
      paths.push(`${req.method ?? ''} ${req.url ?? ''}`);
      req.resume();
      req.on('end', () => res.writeHead(req.url?.startsWith('/api/orders') === true ? 201 : 200).end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const options = (over: Partial<RunOptions>): RunOptions => ({
    baseUrl: base,
    profile: 'steady',
    rate: 50,
    durationSeconds: 3,
    mix: parseMix('browse=70,search=20,order=10'),
    apiKey: 'k',
    products: 1000,
    zipfExponent: 1,
    maxInFlight: 64,
    timeoutMs: 2000,
    seed: 1,
    periodSeconds: 60,
    ...over,
  });

  /** The most requests that arrived within any one-second window. */
  const peakPerSecond = (times: number[]) => {
    let peak = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[i] ?? 0) - (times[j] ?? 0) >= 1000) j++;
      peak = Math.max(peak, i - j + 1);
    }
    return peak;
  };

  it('stays within its rate bound, and sends the mix it was given', async () => {
    arrivals.length = 0;
    paths.length = 0;
    const stats = await runLoad(options({}));
    assert.ok(stats.sent <= 150 + 1, `sent ${stats.sent} in 3 s at 50 rps`);
    assert.ok(stats.sent >= 140, `sent only ${stats.sent}`);
    assert.equal(arrivals.length, stats.sent);
    assert.ok(peakPerSecond(arrivals) <= 56, `peak ${peakPerSecond(arrivals)} per second`);
    assert.equal(stats.errors, 0);
    assert.ok(paths.every((p) => /^(GET \/api\/products|POST \/api\/orders)/.test(p)), 'a request left the API');
    assert.ok(paths.some((p) => p.startsWith('POST')) && paths.some((p) => p.includes('?q=')));
  });

  it('follows the spike profile: the surge at the peak rate, the rest at a fifth of it', async () => {
    arrivals.length = 0;
    const started = performance.now();
    await runLoad(options({ profile: 'spike', rate: 100, durationSeconds: 4 }));
    const relative = arrivals.map((t) => (t - started) / 1000);
    const surge = relative.filter((t) => t >= 1.3 && t < 2.7).length;
    const calm = relative.filter((t) => t < 1.1).length;
    assert.ok(surge > 100 && surge <= 142, `surge ${surge} requests in 1.4 s at 100 rps`);
    assert.ok(calm <= 24, `calm phase ${calm} requests in 1.1 s at 20 rps`);
    assert.ok(peakPerSecond(arrivals) <= 111, `peak ${peakPerSecond(arrivals)} per second`);
  });

  it('never exceeds the in-flight cap against a slow target; it skips instead of bursting later', async () => {
    const slow = createServer((_req, res) => setTimeout(() => res.end('{}'), 500));
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    let concurrent = 0;
    let peak = 0;
    slow.on('request', (_req, res) => {
      concurrent++;
      peak = Math.max(peak, concurrent);
      res.on('finish', () => concurrent--);
    });
    const stats = await runLoad(options({ baseUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`, rate: 100, durationSeconds: 2, maxInFlight: 5 }));
    slow.close();
    assert.ok(peak <= 5, `peak concurrency ${peak}`);
    assert.ok(stats.skipped > 100, `skipped ${stats.skipped}`);
  });

  it('reports progress once per interval, each with only that interval in it', async () => {
    const reports: Progress[] = [];
    const stats = await runLoad(options({ rate: 40, durationSeconds: 2.5, progressIntervalMs: 1000, onProgress: (p) => reports.push(p) }));
    assert.equal(reports.length, 2);
    for (const { interval } of reports) {
      assert.ok(interval.seconds >= 1 && interval.seconds < 1.3, `interval of ${interval.seconds} s`);
      assert.ok(interval.sent >= 36 && interval.sent <= 45, `${interval.sent} sent in one interval at 40 rps`);
      assert.ok(interval.completed >= 30 && interval.completed <= interval.sent + 5, `${interval.completed} completed`);
      assert.ok(interval.latencyMs.p99 > 0 && interval.latencyMs.p99 <= interval.latencyMs.max);
    }
    const reported = reports.reduce((n, r) => n + r.interval.completed, 0);
    assert.ok(reported < stats.completed && stats.completed - reported <= 30, `${reported} of ${stats.completed} in the two reports`);
  });

  it('profiles are fractions of the peak', () => {
    assert.equal(rateFraction('steady', 0.5), 1);
    assert.equal(rateFraction('ramp', 0), 0.1);
    assert.equal(rateFraction('ramp', 1), 1);
    assert.equal(rateFraction('spike', 0.5), 1);
    assert.equal(rateFraction('spike', 0.9), 0.2);
  });

  it('refuses targets that are not loopback unless allowed', () => {
    assert.throws(() => checkTarget('http://10.0.0.1:8080', false), /not a loopback address/);
    assert.throws(() => checkTarget('ftp://127.0.0.1', false), /http or https/);
    assert.equal(checkTarget('http://127.0.0.1:8080', false).port, '8080');
    assert.equal(checkTarget('http://example.test', true).hostname, 'example.test');
  });
});
