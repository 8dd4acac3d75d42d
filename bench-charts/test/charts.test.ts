import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CHARTS_DIR, renderCharts } from '../src/charts.js';
import { ResultsFileError } from '../src/results.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'bench-charts-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A bench-results directory holding only the given files. */
function resultsDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(scratch, 'results-'));
  for (const [file, json] of Object.entries(files)) writeFileSync(path.join(dir, file), JSON.stringify(json, null, 2));
  return dir;
}

/** The aria-label of every mark item (bars, rules, points): Vega-Lite writes each datum's fields there. */
function ariaLabels(svg: string): string[] {
  return [...svg.matchAll(/aria-label="([^"]*)"/g)].map((m) => m[1] ?? '');
}

const spread = (median: number) => ({ median, min: median * 0.97, max: median * 1.02 });

/** bench-results/overhead.json as the overhead benchmark writes it: two workloads, three variants each. */
function overheadFixture() {
  const variant = (variant: string, label: string, throughput: number | null, cpuPerRequest: number | null) => ({
    variant,
    label,
    throughputRps: spread(1000 * (throughput ?? 1)),
    p50Ms: spread(4),
    p99Ms: spread(20),
    cpuSecondsPer1000: spread(0.5 * (cpuPerRequest ?? 1)),
    rssMiB: spread(120),
    ratios: { throughput, p99: 1.02, cpuPerRequest },
  });
  return {
    benchmark: 'instrumentation overhead',
    date: '2026-11-23T16:00:00.000Z',
    workloads: [
      {
        workload: 'cache-hit',
        description: 'GET /products/:id, every read a cache hit',
        variants: [
          variant('none', 'no instrumentation', null, null),
          variant('lookout', 'Lookout, every trace kept', 0.93, 1.08),
          variant('lookout-10pct', 'Lookout, 10% of traces kept', 0.96, 1.04),
        ],
      },
      {
        workload: 'gateway-catalog',
        description: 'GET /api/products/:id through the gateway',
        variants: [
          variant('none', 'no instrumentation', null, null),
          variant('lookout', 'Lookout, every trace kept', 0.87, 1.17),
          variant('lookout-10pct', 'Lookout, 10% of traces kept', 0.91, 1.09),
        ],
      },
    ],
    targets: { cpuPerRequest: 1.1, throughput: 0.9, p99: 1.1 },
  };
}

describe('benchmark charts', () => {
  it('docs/charts/ holds exactly the charts bench-results/ generates, byte for byte (run `npm run gen` after a benchmark)', async () => {
    const rendered = await renderCharts();
    const committed = readdirSync(CHARTS_DIR).filter((f) => f.endsWith('.svg')).sort();
    assert.deepEqual(committed, [...rendered.keys()].sort(), 'a chart is missing (its results file is new) or left over (its results file is gone)');
    for (const [file, svg] of rendered) {
      assert.equal(readFileSync(path.join(CHARTS_DIR, file), 'utf8'), svg, `docs/charts/${file} is stale: run npm run gen`);
    }
  });

  it('renders the same bytes twice, with no date, random id or machine font metric in them', async () => {
    const first = await renderCharts();
    const second = await renderCharts();
    assert.ok(first.size > 0);
    for (const [file, svg] of first) {
      assert.equal(second.get(file), svg, `${file} differs between two renders`);
      assert.doesNotMatch(svg, /\d{4}-\d\d-\d\dT\d\d:/, `${file} holds a timestamp`);
      assert.doesNotMatch(svg, /\bid="/, `${file} holds an element id`);
      assert.match(svg, /font-family="DejaVu Sans, Verdana, sans-serif"/, `${file} is not in the fixed font`);
    }
  });

  it('skips the chart of every results file that does not exist', async () => {
    assert.deepEqual([...(await renderCharts(resultsDir({}))).keys()], []);
  });

  it('draws the overhead ratios per workload and variant, and each target as a rule, from the overhead benchmark’s file', async () => {
    const charts = await renderCharts(resultsDir({ 'overhead.json': overheadFixture() }));
    assert.deepEqual([...charts.keys()], ['overhead.svg']);
    const svg = charts.get('overhead.svg') ?? '';
    const labels = ariaLabels(svg);
    const bars = (variant: string) => labels.filter((l) => l.startsWith('workload: ') && l.includes(`; variant: ${variant}`));
    // Two panels (throughput, CPU per request) of two workloads times the two instrumented variants; the
    // uninstrumented baseline has no ratio (null) and so no bar.
    assert.equal(bars('').length, 8, labels.join('\n'));
    assert.equal(bars('no instrumentation').length, 0);
    for (const expected of [
      'workload: cache-hit; ratio to uninstrumented: 0.93; variant: Lookout, every trace kept',
      'workload: gateway-catalog; ratio to uninstrumented: 0.87; variant: Lookout, every trace kept',
      'workload: cache-hit; ratio to uninstrumented: 1.08; variant: Lookout, every trace kept',
      'workload: gateway-catalog; ratio to uninstrumented: 1.09; variant: Lookout, 10% of traces kept',
    ]) {
      assert.ok(labels.includes(expected), `no bar "${expected}" in\n${labels.join('\n')}`);
    }
    assert.ok(labels.includes('target: 0.9'), 'the throughput target is not drawn');
    assert.ok(labels.includes('target: 1.1'), 'the CPU-per-request target is not drawn');
    assert.match(svg, />Throughput: higher is better, target 0\.9 \(dashed\)</);
    assert.match(svg, />CPU per request: lower is better, target 1\.1 \(dashed\)</);
    assert.match(svg, />0\.87</, 'the bars carry no value');
  });

  it('fails on a results file that lacks what its chart needs, naming the file and the field', async () => {
    const broken = overheadFixture() as Partial<ReturnType<typeof overheadFixture>>;
    delete broken.targets;
    await assert.rejects(renderCharts(resultsDir({ 'overhead.json': broken })), (err: unknown) => {
      assert.ok(err instanceof ResultsFileError);
      assert.equal(err.file, 'overhead.json');
      assert.match(err.message, /targets/);
      return true;
    });
    const dir = resultsDir({});
    writeFileSync(path.join(dir, 'drills.json'), '{"rows": [');
    await assert.rejects(renderCharts(dir), /drills\.json: /);
  });

  it('draws each drill’s down time and recovery, leaving out a recovery that never came', async () => {
    const rows = [
      { component: 'postgres', how: 'stop, start', downSeconds: 9.5, recoverySeconds: 0.7 },
      { component: 'tempo', how: 'stop, start', downSeconds: 28.8, recoverySeconds: null },
    ];
    const svg = (await renderCharts(resultsDir({ 'drills.json': { rows, missing: [] } }))).get('drills.svg') ?? '';
    const labels = ariaLabels(svg);
    assert.ok(labels.includes('seconds: 9.5; component: postgres'), labels.join('\n'));
    assert.ok(labels.includes('seconds: 28.8; component: tempo'));
    assert.ok(labels.includes('seconds: 0.7; component: postgres'));
    assert.equal(labels.filter((l) => l.endsWith('; component: tempo')).length, 1, 'a recovery that never came is drawn');
    // Both panels keep a row for every component, so that their rows line up.
    assert.equal(labels.filter((l) => l === 'Y-axis for a discrete scale with 2 values: postgres, tempo').length, 2);
  });
  it('draws collector CPU against the achieved request rate per capacity step, marking the step that was not clean', async () => {
    const step = (targetRps: number, achievedRps: number, cpu: number, clean: boolean) => ({
      targetRps,
      achievedRps,
      errorRatio: 0,
      spansPerSecond: achievedRps * 9,
      logRecordsPerSecond: achievedRps * 3,
      collectorCpuPercent: cpu,
      collectorRssMiB: 120,
      failures: {},
      clean,
    });
    const idle = { collectorCpuPercent: 0.75, spansPerSecond: 0.2, logRecordsPerSecond: 0 };
    const results = { idle, steps: [step(50, 49.8, 6.5, true), step(150, 141.2, 17.25, false)], capacity: { rps: 49.8 } };
    const charts = await renderCharts(resultsDir({ 'capacity.json': results }));
    assert.deepEqual([...charts.keys()], ['capacity.svg']);
    const svg = charts.get('capacity.svg') ?? '';
    const labels = ariaLabels(svg);
    assert.ok(labels.includes('gateway requests/s achieved: 49.8; collector CPU (% of one core): 6.5; step: clean'), labels.join('\n'));
    assert.ok(labels.includes('gateway requests/s achieved: 141.2; collector CPU (% of one core): 17.25; step: not clean'), labels.join('\n'));
    assert.ok(labels.includes('gateway requests/s achieved: 0; collector CPU (% of one core): 0.75; step: idle'), 'the idle baseline is not drawn at 0 requests/s');
    assert.match(svg, />1,694</, 'a point does not carry its spans + log records per second');
    const noSteps = { ...results, steps: [] };
    await assert.rejects(renderCharts(resultsDir({ 'capacity.json': noSteps })), /capacity\.json: steps/);
  });
});
