import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dependenciesDashboard } from './dashboards/dependencies.js';
import { pipelineDashboard } from './dashboards/pipeline.js';
import { redOverview } from './dashboards/red-overview.js';
import { runtimeDashboard } from './dashboards/runtime.js';
import { serviceGraphDashboard } from './dashboards/service-graph.js';
import { serviceDashboard } from './dashboards/service.js';
import { slosDashboard } from './dashboards/slos.js';

export const DASHBOARDS_DIR = path.resolve(__dirname, '../../dashboards');

/** Every Lookout dashboard, in the order of the README's "What you see in Grafana". */
export function dashboardBuilders() {
  return [redOverview(), serviceDashboard(), slosDashboard(), dependenciesDashboard(), runtimeDashboard(), pipelineDashboard(), serviceGraphDashboard()];
}

/** Every dashboard as the JSON Grafana loads, by file name. */
export function renderDashboards(): Map<string, string> {
  const out = new Map<string, string>();
  for (const builder of dashboardBuilders()) {
    const dashboard = builder.build();
    out.set(`${dashboard.uid ?? 'unnamed'}.json`, `${JSON.stringify(dashboard, null, 2)}\n`);
  }
  return out;
}

if (require.main === module) {
  mkdirSync(DASHBOARDS_DIR, { recursive: true });
  for (const [file, json] of renderDashboards()) {
    writeFileSync(path.join(DASHBOARDS_DIR, file), json);
    process.stdout.write(`wrote grafana/dashboards/${file}\n`);
  }
}
