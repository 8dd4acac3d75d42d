import type { TopLevelSpec } from 'vega-lite';
import type { Capacity, Drills, LoadgenMemory, Overhead, PipelineLatency } from './results.js';

// One Vega-Lite spec per chart, built from a parsed results file. Titles say what is measured and where the numbers
// come from, so that a chart read alone (on GitHub, without the surrounding text) is not misread.

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

// A fixed font stack and sizes: nothing in the SVG depends on the machine that generated it.
const CONFIG = {
  font: 'DejaVu Sans, Verdana, sans-serif',
  background: 'white',
  padding: 8,
  title: { anchor: 'start', fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555' },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'bottom', direction: 'horizontal', labelLimit: 400 },
  bar: { color: '#4c78a8' },
} as const;

const TARGET_COLOR = '#c0392b';

export function freshnessSpec(results: PipelineLatency): TopLevelSpec {
  const backends = [
    ['Tempo', results.latencyMs.tempo],
    ['Loki', results.latencyMs.loki],
    ['Prometheus', results.latencyMs.prometheus],
  ] as const;
  const values = backends.flatMap(([backend, ms]) => [
    { backend, percentile: 'p50', seconds: ms.p50 / 1000 },
    { backend, percentile: 'p95', seconds: ms.p95 / 1000 },
  ]);
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: 'Telemetry freshness: response to queryable',
      subtitle: 'seconds until the request is in each backend (bench-results/pipeline-latency.json)',
    },
    width: 420,
    height: 220,
    data: { values },
    encoding: {
      x: { field: 'backend', type: 'nominal', sort: backends.map(([b]) => b), title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'percentile', type: 'nominal', sort: ['p50', 'p95'] },
      y: { field: 'seconds', type: 'quantitative', title: 'seconds' },
    },
    layer: [
      {
        mark: 'bar',
        encoding: {
          color: {
            field: 'percentile',
            type: 'nominal',
            sort: ['p50', 'p95'],
            title: null,
            scale: { range: ['#4c78a8', '#9ecae9'] },
          },
        },
      },
      {
        mark: { type: 'text', dy: -6, fontSize: 10, aria: false },
        encoding: { text: { field: 'seconds', type: 'quantitative', format: '.1f' } },
      },
    ],
  };
}

type RatioMetric = 'throughput' | 'cpuPerRequest';

/** Grouped bars of one ratio (variant against the uninstrumented run) per workload, and its target as a rule. */
function ratioPanel(results: Overhead, metric: RatioMetric, title: string, variantOrder: readonly string[]) {
  const values = results.workloads.flatMap((w) =>
    w.variants.flatMap((v) => {
      const ratio = v.ratios?.[metric];
      return ratio === undefined || ratio === null ? [] : [{ workload: w.workload, variant: v.label, ratio }];
    }),
  );
  const target = results.targets[metric];
  return {
    title: `${title}, target ${String(target)} (dashed)`,
    width: 560,
    height: 180,
    layer: [
      {
        data: { values },
        encoding: {
          x: {
            field: 'workload',
            type: 'nominal' as const,
            sort: results.workloads.map((w) => w.workload),
            title: null,
            axis: { labelAngle: 0 },
          },
          xOffset: { field: 'variant', type: 'nominal' as const, sort: [...variantOrder] },
          y: { field: 'ratio', type: 'quantitative' as const, title: 'ratio to uninstrumented' },
        },
        layer: [
          {
            mark: { type: 'bar' as const },
            encoding: {
              color: {
                field: 'variant',
                type: 'nominal' as const,
                sort: [...variantOrder],
                title: null,
                // The benchmark's labels are sentences: one a line, never cut.
                legend: { direction: 'vertical' as const, columns: 1, labelLimit: 0 },
              },
            },
          },
          {
            mark: { type: 'text' as const, dy: -5, fontSize: 9, aria: false },
            encoding: { text: { field: 'ratio', type: 'quantitative' as const, format: '.2f' } },
          },
        ],
      },
      {
        // A rule with only y spans the panel.
        data: { values: [{ target }] },
        mark: { type: 'rule' as const, color: TARGET_COLOR, strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: { field: 'target', type: 'quantitative' as const } },
      },
    ],
  };
}

export function overheadSpec(results: Overhead): TopLevelSpec {
  const variantOrder = [...new Set(results.workloads.flatMap((w) => w.variants.map((v) => v.label)))];
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: 'Instrumentation overhead',
      subtitle: 'median of the runs, as a ratio to the same workload uninstrumented (bench-results/overhead.json)',
    },
    vconcat: [
      ratioPanel(results, 'throughput', 'Throughput: higher is better', variantOrder),
      ratioPanel(results, 'cpuPerRequest', 'CPU per request: lower is better', variantOrder),
    ],
  };
}

/** The benchmark's own variant names, said as the docs say them. */
const LOADGEN_VARIANTS: Readonly<Record<string, string>> = {
  histogram: 'HdrHistograms (now)',
  'array-baseline': 'every latency kept (before)',
};

export function loadgenMemorySpec(results: LoadgenMemory): TopLevelSpec {
  const names = results.results.map((r) => LOADGEN_VARIANTS[r.variant] ?? r.variant);
  const values = results.results.flatMap((r, i) => r.memory.map((m) => ({ variant: names[i], minute: m.minute, rssMiB: m.rssMiB })));
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: 'Load generator memory over one simulated hour',
      subtitle: 'resident set size each simulated minute at 500 requests/s (bench-results/loadgen-memory.json)',
    },
    width: 460,
    height: 220,
    data: { values },
    mark: { type: 'line', strokeWidth: 2 },
    encoding: {
      x: { field: 'minute', type: 'quantitative', title: 'simulated minute', axis: { tickMinStep: 1 } },
      y: { field: 'rssMiB', type: 'quantitative', title: 'RSS (MiB)' },
      color: { field: 'variant', type: 'nominal', sort: names, title: null },
    },
  };
}

export function drillsSpec(results: Drills): TopLevelSpec {
  const order = results.rows.map((r) => r.component);
  const bars = (field: 'downSeconds' | 'recoverySeconds', title: string, color: string) => ({
    title,
    width: 220,
    height: { step: 22 },
    data: {
      values: results.rows.flatMap((r) => {
        const seconds = r[field];
        return seconds === null ? [] : [{ component: r.component, seconds }];
      }),
    },
    encoding: {
      y: { field: 'component', type: 'nominal' as const, sort: order, title: null },
      x: { field: 'seconds', type: 'quantitative' as const, title: 'seconds' },
    },
    layer: [
      { mark: { type: 'bar' as const, color } },
      {
        mark: { type: 'text' as const, align: 'left' as const, dx: 3, fontSize: 10, aria: false },
        encoding: { text: { field: 'seconds', type: 'quantitative' as const, format: '.1f' } },
      },
    ],
  });
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: 'Outage drills under load',
      subtitle: 'each component stopped (the collector killed) once, native stack (bench-results/drills.json)',
    },
    hconcat: [
      bars('downSeconds', 'Down: stop until ready again', '#9ecae9'),
      bars('recoverySeconds', 'Recovery: restart until orders and reads answer 2xx', '#4c78a8'),
    ],
    // One row per component in both panels, also for a recovery that never came (no bar).
    resolve: { scale: { x: 'independent', y: 'shared' } },
  };
}

export function capacitySpec(results: Capacity): TopLevelSpec {
  const point = (s: { collectorCpuPercent: number; spansPerSecond: number; logRecordsPerSecond: number }, achievedRps: number, step: string) => ({
    achievedRps,
    collectorCpuPercent: s.collectorCpuPercent,
    itemsPerSecond: Math.round(s.spansPerSecond + s.logRecordsPerSecond),
    step,
  });
  const values = [
    ...(results.idle === undefined ? [] : [point(results.idle, 0, 'idle')]),
    ...results.steps.map((s) => point(s, s.achievedRps, s.clean ? 'clean' : 'not clean')),
  ];
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: 'Collector CPU by gateway request rate',
      subtitle: 'each step of steady load; labels: spans + log records accepted per second (bench-results/capacity.json)',
    },
    width: 460,
    height: 220,
    data: { values },
    encoding: {
      x: { field: 'achievedRps', type: 'quantitative', title: 'gateway requests/s achieved', scale: { zero: true } },
      y: { field: 'collectorCpuPercent', type: 'quantitative', title: 'collector CPU (% of one core)', scale: { zero: true } },
    },
    layer: [
      { mark: { type: 'line', color: '#9ecae9', strokeWidth: 2, aria: false } },
      {
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          color: {
            field: 'step',
            type: 'nominal',
            title: null,
            scale: { domain: ['idle', 'clean', 'not clean'], range: ['#999999', '#4c78a8', TARGET_COLOR] },
          },
        },
      },
      {
        mark: { type: 'text', dy: -10, fontSize: 10, aria: false },
        encoding: { text: { field: 'itemsPerSecond', type: 'quantitative', format: ',d' } },
      },
    ],
  };
}
