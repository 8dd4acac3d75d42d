import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { redOverview } from './dashboards/red-overview.js';

export const DASHBOARDS_DIR = path.resolve(__dirname, '../../dashboards');

/** Every dashboard as the JSON Grafana loads, by file name. */
export function renderDashboards(): Map<string, string> {
  const out = new Map<string, string>();
  for (const builder of [redOverview()]) {
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
