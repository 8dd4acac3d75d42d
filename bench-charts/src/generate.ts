import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CHARTS_DIR, renderCharts } from './charts.js';

/** Writes docs/charts/ from bench-results/: every chart whose results exist, and no chart whose results are gone. */
export async function writeCharts(): Promise<void> {
  const charts = await renderCharts();
  mkdirSync(CHARTS_DIR, { recursive: true });
  for (const [file, svg] of charts) {
    writeFileSync(path.join(CHARTS_DIR, file), svg);
    process.stdout.write(`wrote docs/charts/${file}\n`);
  }
  for (const file of readdirSync(CHARTS_DIR)) {
    if (file.endsWith('.svg') && !charts.has(file)) {
      rmSync(path.join(CHARTS_DIR, file));
      process.stdout.write(`removed docs/charts/${file} (its results file is gone)\n`);
    }
  }
}

if (require.main === module) {
  writeCharts().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
