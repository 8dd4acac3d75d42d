import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { z } from 'zod';
import { renderSvg } from './render.js';
import { capacitySchema, drillsSchema, loadgenMemorySchema, overheadSchema, pipelineLatencySchema, readResults } from './results.js';
import { capacitySpec, drillsSpec, freshnessSpec, loadgenMemorySpec, overheadSpec } from './specs.js';

export const REPO = path.resolve(__dirname, '../../..');
export const RESULTS_DIR = path.join(REPO, 'bench-results');
export const CHARTS_DIR = path.join(REPO, 'docs/charts');

/** A chart and the results file it is drawn from. */
export interface ChartSource {
  /** The SVG's name in docs/charts/. */
  readonly chart: string;
  /** The results file's name in bench-results/. */
  readonly results: string;
  /** The file's Vega-Lite spec; undefined when the file does not exist. */
  spec(dir: string): TopLevelSpec | undefined;
}

function source<T>(chart: string, results: string, schema: z.ZodType<T>, build: (parsed: T) => TopLevelSpec): ChartSource {
  return {
    chart,
    results,
    spec(dir) {
      const parsed = readResults(dir, results, schema);
      return parsed === undefined ? undefined : build(parsed);
    },
  };
}

// bench-results/catalog-cache.json, gateway-throughput.json and service-startup.json stay tables in the docs.
export const CHART_SOURCES: readonly ChartSource[] = [
  source('freshness.svg', 'pipeline-latency.json', pipelineLatencySchema, freshnessSpec),
  source('overhead.svg', 'overhead.json', overheadSchema, overheadSpec),
  source('loadgen-memory.svg', 'loadgen-memory.json', loadgenMemorySchema, loadgenMemorySpec),
  source('drills.svg', 'drills.json', drillsSchema, drillsSpec),
  source('capacity.svg', 'capacity.json', capacitySchema, capacitySpec),
];

/**
 * Every chart whose results file exists in `dir`, as SVG by file name. A missing file skips its chart; a file that
 * exists but lacks what its chart needs throws (ResultsFileError).
 */
export async function renderCharts(dir = RESULTS_DIR, sources: readonly ChartSource[] = CHART_SOURCES): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of sources) {
    const spec = s.spec(dir);
    if (spec !== undefined) out.set(s.chart, await renderSvg(spec));
  }
  return out;
}
