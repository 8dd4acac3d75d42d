// `npm run gen -w @lookout/deploy`: writes the chart's generated files (deploy/src/chart.ts). A test fails when stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CHART_DIR, chartFiles } from './chart.js';

for (const [file, content] of chartFiles()) {
  const target = path.join(CHART_DIR, file);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, content);
  process.stdout.write(`wrote deploy/helm/lookout/${file}\n`);
}
