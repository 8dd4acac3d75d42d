import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

// The parts of bench-results/*.json the charts read. Each schema names only the fields a chart uses and lets the
// rest through, so a benchmark can add fields without breaking `npm run gen`; a field a chart needs that is missing
// or of the wrong type fails generation with the file and the field named.

const percentiles = z.object({ p50: z.number(), p95: z.number() });

export const pipelineLatencySchema = z.object({
  latencyMs: z.object({ tempo: percentiles, loki: percentiles, prometheus: percentiles }),
});
export type PipelineLatency = z.infer<typeof pipelineLatencySchema>;

const spread = z.object({ median: z.number(), min: z.number(), max: z.number() });

export const overheadSchema = z.object({
  workloads: z
    .array(
      z.object({
        workload: z.string(),
        variants: z
          .array(
            z.object({
              variant: z.string(),
              label: z.string(),
              throughputRps: spread,
              cpuSecondsPer1000: spread,
              // The baseline's ratios are against itself: a benchmark may leave them out or null.
              ratios: z
                .object({ throughput: z.number().nullable(), cpuPerRequest: z.number().nullable() })
                .partial()
                .optional(),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
  targets: z.object({ throughput: z.number(), cpuPerRequest: z.number() }),
});
export type Overhead = z.infer<typeof overheadSchema>;

export const loadgenMemorySchema = z.object({
  results: z
    .array(
      z.object({
        variant: z.string(),
        memory: z.array(z.object({ minute: z.number(), rssMiB: z.number() })).min(1),
      }),
    )
    .min(1),
});
export type LoadgenMemory = z.infer<typeof loadgenMemorySchema>;

export const drillsSchema = z.object({
  rows: z
    .array(
      z.object({
        component: z.string(),
        downSeconds: z.number(),
        // null: the shop never answered 2xx again within the drill.
        recoverySeconds: z.number().nullable(),
      }),
    )
    .min(1),
});
export type Drills = z.infer<typeof drillsSchema>;

export const capacitySchema = z.object({
  steps: z
    .array(
      z.object({
        targetRps: z.number(),
        achievedRps: z.number(),
        spansPerSecond: z.number(),
        logRecordsPerSecond: z.number(),
        collectorCpuPercent: z.number(),
        clean: z.boolean(),
      }),
    )
    .min(1),
  // The collector with no traffic: drawn at 0 requests/s where the file has it.
  idle: z.object({ collectorCpuPercent: z.number(), spansPerSecond: z.number(), logRecordsPerSecond: z.number() }).optional(),
});
export type Capacity = z.infer<typeof capacitySchema>;

/** Thrown for a results file that exists but is not JSON or lacks what its chart needs. */
export class ResultsFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'ResultsFileError';
  }
}

/**
 * One results file parsed with its schema, or undefined when the file does not exist (that benchmark has not been
 * run, or not yet written: its chart is skipped).
 */
export function readResults<T>(dir: string, file: string, schema: z.ZodType<T>): T | undefined {
  const full = path.join(dir, file);
  if (!existsSync(full)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(full, 'utf8'));
  } catch (err) {
    throw new ResultsFileError(file, [err instanceof Error ? err.message : String(err)]);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ResultsFileError(
      file,
      parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`),
    );
  }
  return parsed.data;
}
