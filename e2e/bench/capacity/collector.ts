import { readFileSync } from 'node:fs';
import type { StackSettings } from '@lookout/native-stack';
import { anyError, scrape, sumOf, type Sample } from '@lookout/testkit';
import { cpuSeconds, rssMiB } from '../overhead/proc.js';

/** The collector's own counters whose growth means data was refused, failed or dropped somewhere in it. */
const COLLECTOR_FAILURE = /^otelcol_(receiver_(refused|failed)_|exporter_(send|enqueue)_failed_|processor_.*(refused|dropped|discarded))/;
/** The SDK counters of every service whose growth means telemetry never reached the collector. */
const SDK_FAILURES = [
  { name: 'otel_sdk_exporter_span_exported_total', errorOnly: true },
  { name: 'otel_sdk_exporter_log_exported_total', errorOnly: true },
  { name: 'otel_sdk_processor_span_dropped_total', errorOnly: false },
] as const;

/** Counter name without the `_total` some collector versions add. */
const base = (name: string) => name.replace(/_total$/, '');

/** Everything read at one instant: the collector's counters, every service's SDK counters, CPU time and RSS. */
export interface Snapshot {
  at: number;
  /** Collector series summed over their labels, by name without `_total`. */
  collector: Map<string, number>;
  /** Failure counters: the collector's and every service's SDK ones, by a name that says whose. */
  failures: Map<string, number>;
  /** OTLP bytes the collector received per signal, when its HTTP server metrics say so (undefined otherwise). */
  otlpBytes: { traces: number; logs: number } | undefined;
  collectorCpuSeconds: number;
  collectorRssMiB: number;
  /** The whole machine's busy and total jiffies (/proc/stat), to tell a saturated machine from a saturated collector. */
  machine: { busy: number; total: number };
}

function summed(samples: readonly Sample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) out.set(base(s.name), (out.get(base(s.name)) ?? 0) + s.value);
  return out;
}

/**
 * Bytes of OTLP/HTTP request bodies per signal, from the collector's HTTP server histogram (detailed telemetry).
 * Found by route or target label holding /v1/traces or /v1/logs; undefined when this collector build labels neither.
 */
function otlpBytes(samples: readonly Sample[]): { traces: number; logs: number } | undefined {
  let traces = 0;
  let logs = 0;
  let seen = false;
  for (const s of samples) {
    if (!/^http_server_request_body_size.*_sum$/.test(s.name)) continue;
    const where = Object.values(s.labels).join(' ');
    if (where.includes('/v1/traces')) traces += s.value;
    else if (where.includes('/v1/logs')) logs += s.value;
    else continue;
    seen = true;
  }
  return seen ? { traces, logs } : undefined;
}

function machineJiffies(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = cpu.reduce((a, b) => a + b, 0);
  // idle and iowait are fields 4 and 5 of the cpu line.
  return { busy: total - (cpu[3] ?? 0) - (cpu[4] ?? 0), total };
}

export async function snapshot(s: StackSettings, collectorPid: number): Promise<Snapshot> {
  const at = performance.now();
  const collectorSamples = await scrape(`http://127.0.0.1:${s.ports.otelcolMetrics}`);
  const collector = summed(collectorSamples);
  const failures = new Map<string, number>();
  for (const [name, value] of collector) if (COLLECTOR_FAILURE.test(name)) failures.set(name, value);
  for (const [service, port] of Object.entries(s.managementPorts)) {
    const samples = await scrape(`http://127.0.0.1:${port}`);
    for (const { name, errorOnly } of SDK_FAILURES) {
      failures.set(`${service}: ${name}${errorOnly ? '{error_type!=""}' : ''}`, sumOf(samples, name, errorOnly ? { error_type: anyError } : {}));
    }
  }
  return {
    at,
    collector,
    failures,
    otlpBytes: otlpBytes(collectorSamples),
    collectorCpuSeconds: cpuSeconds(collectorPid),
    collectorRssMiB: rssMiB(collectorPid),
    machine: machineJiffies(),
  };
}

/** Growth of a collector series between two snapshots (0 for one that appeared only later: it was 0). */
export const grew = (from: Snapshot, to: Snapshot, name: string) => (to.collector.get(name) ?? 0) - (from.collector.get(name) ?? 0);

/** Growth of every failure counter between two snapshots, by name. */
export function failureDeltas(from: Snapshot, to: Snapshot): Record<string, number> {
  const names = [...new Set([...from.failures.keys(), ...to.failures.keys()])].sort();
  return Object.fromEntries(names.map((n) => [n, (to.failures.get(n) ?? 0) - (from.failures.get(n) ?? 0)]));
}

/** The collector's exporter queues, in requests: the fullest one's size and its capacity. */
export async function queueFill(s: StackSettings): Promise<{ size: number; capacity: number }> {
  const samples = await scrape(`http://127.0.0.1:${s.ports.otelcolMetrics}`);
  let worst = { size: 0, capacity: 0 };
  for (const q of samples.filter((x) => base(x.name) === 'otelcol_exporter_queue_size')) {
    const capacity = samples.find((x) => base(x.name) === 'otelcol_exporter_queue_capacity' && x.labels.exporter === q.labels.exporter)?.value ?? 0;
    if (q.value >= worst.size) worst = { size: q.value, capacity };
  }
  return worst;
}
