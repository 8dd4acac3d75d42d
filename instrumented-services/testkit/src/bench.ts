import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';

/** Where benchmark results go: bench-results/ at the repository root. */
export const BENCH_RESULTS = path.resolve(__dirname, '../../../../bench-results');

/** Writes a benchmark's results with the date and the machine they were measured on. */
export function writeBenchResult(file: string, benchmark: string, data: Record<string, unknown>): string {
  const out = path.join(BENCH_RESULTS, file);
  mkdirSync(BENCH_RESULTS, { recursive: true });
  const report = { benchmark, date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, ...data };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`written to ${out}\n`);
  return out;
}

/** Runs a benchmark's main, printing a failure with its stack and exiting 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
