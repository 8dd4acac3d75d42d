#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { listFaults, startFault, stopFault } from './drill.js';
import { loadConfig } from './config.js';
import { parseMix } from './mix.js';
import { PROFILES, type ProfileName } from './profiles.js';
import { ProgressReporter } from './progress.js';
import { checkTarget, LIMITS, runLoad } from './runner.js';
import type { RunStats } from './stats.js';

const USAGE = `Usage:
  loadgen run   [--base-url URL] [--profile steady|ramp|spike] [--rate RPS] [--duration 60s|5m|0]
                [--mix browse=70,search=25,order=5] [--api-key KEY] [--products N] [--zipf S]
                [--max-in-flight N] [--timeout-ms MS] [--seed N] [--period 300s] [--json FILE]
  loadgen drill --target URL --fault NAME [--ms N] [--ratio R] [--status N] [--duration 60s]
                [--admin-token TOKEN] [--no-wait]
  loadgen drill --target URL --list [--admin-token TOKEN]

Targets must be loopback addresses unless LOADGEN_ALLOW_REMOTE=true. --duration 0 runs until SIGINT/SIGTERM.
Defaults come from LOADGEN_BASE_URL (http://127.0.0.1:8080), LOADGEN_API_KEY (the demo mode's load generator key) and ADMIN_TOKEN.
Faults: latency (--ms, --ratio), errors (--ratio, --status), slow_queries (--ms), cache_bypass, consumer_paused,
publish_blocked; each service lists the ones it supports at GET /admin/faults.`;

class UsageError extends Error {}

/** `90`, `90s`, `5m`, `1h` -> seconds. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`${option}: expected a duration such as 90s, 5m or 1h, got "${text}"`);
  const factor = m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1;
  return Number(m[1]) * factor;
}

function numberOption(value: string | undefined, option: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${option}: expected a number from ${min} to ${max}, got "${value}"`);
  return n;
}

export function summary(stats: RunStats, seconds: number) {
  return {
    requests: stats.sent,
    completed: stats.completed,
    skipped: stats.skipped,
    achievedRps: Math.round((stats.completed / Math.max(seconds, 0.001)) * 10) / 10,
    statusCodes: Object.fromEntries([...stats.statuses].sort()),
    latencyMs: stats.percentiles(),
  };
}

async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      'base-url': { type: 'string' },
      profile: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      mix: { type: 'string' },
      'api-key': { type: 'string' },
      products: { type: 'string' },
      zipf: { type: 'string' },
      'max-in-flight': { type: 'string' },
      'timeout-ms': { type: 'string' },
      seed: { type: 'string' },
      period: { type: 'string' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const config = loadConfig();
  const baseUrl = checkTarget(values['base-url'] ?? config.baseUrl, config.allowRemote);
  const profile = (values.profile ?? 'steady') as ProfileName;
  if (!PROFILES.includes(profile)) throw new UsageError(`--profile: one of ${PROFILES.join(', ')}`);
  const durationSeconds = parseDuration(values.duration ?? '60s', '--duration');
  if (durationSeconds > LIMITS.maxDurationSeconds) throw new UsageError(`--duration: at most ${LIMITS.maxDurationSeconds} s`);
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
  const started = performance.now();
  const progress = new ProgressReporter(process.stderr);
  const stats = await runLoad({
    baseUrl: baseUrl.toString(),
    profile,
    rate: numberOption(values.rate, '--rate', 20, 0.1, LIMITS.maxRate),
    durationSeconds,
    mix: parseMix(values.mix ?? 'browse=70,search=25,order=5'),
    apiKey: values['api-key'] ?? config.apiKey,
    products: numberOption(values.products, '--products', 10_000, 1, 10_000_000),
    zipfExponent: numberOption(values.zipf, '--zipf', 1, 0, 5),
    maxInFlight: numberOption(values['max-in-flight'], '--max-in-flight', 256, 1, LIMITS.maxInFlight),
    timeoutMs: numberOption(values['timeout-ms'], '--timeout-ms', 5_000, 10, 120_000),
    seed: numberOption(values.seed, '--seed', Date.now() % 2 ** 31, 0, 2 ** 31),
    periodSeconds: parseDuration(values.period ?? '300s', '--period'),
    signal: controller.signal,
    progressIntervalMs: progress.inPlace ? 1000 : config.progressSeconds * 1000,
    onProgress: (p) => progress.report(p),
  });
  progress.end();
  const result = summary(stats, (performance.now() - started) / 1000);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
}

async function drill(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      target: { type: 'string' },
      fault: { type: 'string' },
      ms: { type: 'string' },
      ratio: { type: 'string' },
      status: { type: 'string' },
      duration: { type: 'string' },
      'admin-token': { type: 'string' },
      'no-wait': { type: 'boolean' },
      list: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.target === undefined) throw new UsageError('--target is required');
  const config = loadConfig();
  const target = checkTarget(values.target, config.allowRemote).toString().replace(/\/$/, '');
  const adminToken = values['admin-token'] ?? config.adminToken;
  if (adminToken === undefined) throw new UsageError('--admin-token (or ADMIN_TOKEN) is required');
  if (values.list === true) {
    process.stdout.write(`${JSON.stringify(await listFaults({ target, adminToken }), null, 2)}\n`);
    return;
  }
  if (values.fault === undefined) throw new UsageError('--fault is required');
  const fault: Record<string, unknown> & { name: string } = { name: values.fault };
  if (values.ms !== undefined) fault.ms = numberOption(values.ms, '--ms', 0, 1, 30_000);
  if (values.ratio !== undefined) fault.ratio = numberOption(values.ratio, '--ratio', 1, 0, 1);
  if (values.status !== undefined) fault.status = numberOption(values.status, '--status', 500, 500, 599);
  const durationSeconds = Math.round(parseDuration(values.duration ?? '60s', '--duration'));
  await startFault({ target, adminToken, fault, durationSeconds });
  process.stderr.write(`fault ${fault.name} on at ${target} for ${durationSeconds} s\n`);
  if (values['no-wait'] === true) return;
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
  const endAt = Date.now() + durationSeconds * 1000;
  while (Date.now() < endAt && !controller.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, endAt - Date.now())));
    process.stderr.write(`  ${fault.name}: ${Math.max(0, Math.round((endAt - Date.now()) / 1000))} s left\n`);
  }
  await stopFault({ target, adminToken, name: fault.name });
  process.stderr.write(`fault ${fault.name} off\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'run') await run(rest);
  else if (command === 'drill') await drill(rest);
  else throw new UsageError(command === undefined ? 'a command is required' : `unknown command "${command}"`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    if (err instanceof UsageError || (err instanceof Error && /^--|^Unknown option|^Option/.test(err.message))) {
      process.stderr.write(`loadgen: ${err.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`loadgen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
