import { Agent, request } from 'undici';
import { planRequest, pickScenario, type Mix } from './mix.js';
import { rateFraction, type ProfileName } from './profiles.js';
import { RunStats, type IntervalStats } from './stats.js';
import { seededRandom, Zipf } from './zipf.js';

export interface RunOptions {
  baseUrl: string;
  profile: ProfileName;
  /** Peak requests per second; the profile never exceeds it. */
  rate: number;
  /** Seconds; 0 runs until `signal` aborts. */
  durationSeconds: number;
  mix: Mix;
  apiKey: string;
  products: number;
  zipfExponent: number;
  maxInFlight: number;
  timeoutMs: number;
  seed: number;
  /** Period of the spike shape in an endless run. */
  periodSeconds: number;
  signal?: AbortSignal;
  /** How often onProgress is called, each time with the interval since the previous call; 1 s by default. */
  progressIntervalMs?: number;
  onProgress?: (snapshot: Progress) => void;
}

export interface Progress {
  elapsedSeconds: number;
  targetRate: number;
  inFlight: number;
  /** Since the previous report; its latency histogram is emptied for the next one. */
  interval: IntervalStats;
  /** The whole run so far. */
  stats: RunStats;
}

export const LIMITS = { maxRate: 5_000, maxDurationSeconds: 24 * 3600, maxInFlight: 2_000 };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Refuses anything but an http(s) URL on a loopback address unless remote targets are allowed explicitly. */
export function checkTarget(baseUrl: string, allowRemote: boolean): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`--base-url: not a URL: ${baseUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('--base-url: must be http or https');
  if (!allowRemote && !LOOPBACK.has(url.hostname) && !url.hostname.startsWith('127.')) {
    throw new Error(`--base-url: ${url.hostname} is not a loopback address; set LOADGEN_ALLOW_REMOTE=1 to target it`);
  }
  return url;
}

/**
 * Open-loop load: requests are started on a schedule derived from the profile (every 10 ms, as many as the rate
 * says are due), never faster than `rate`, and never more than `maxInFlight` at once; a request the cap holds back
 * is counted as skipped, not sent late, so a slow target cannot make the generator burst afterwards.
 */
export async function runLoad(options: RunOptions): Promise<RunStats> {
  const started = performance.now();
  const stats = new RunStats(started);
  const random = seededRandom(options.seed);
  const zipf = new Zipf(options.products, options.zipfExponent, random);
  const agent = new Agent({ connections: Math.min(options.maxInFlight, 256), headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  const base = options.baseUrl.replace(/\/$/, '');
  const progressIntervalMs = options.progressIntervalMs ?? 1000;
  const endless = options.durationSeconds === 0;
  let due = 0;
  let inFlight = 0;
  let lastTick = started;
  let lastProgress = started;
  const pending = new Set<Promise<void>>();

  const fire = () => {
    const planned = planRequest(pickScenario(options.mix, random), zipf, random);
    const t0 = performance.now();
    inFlight++;
    stats.sent++;
    const p = request(`${base}${planned.path}`, {
      method: planned.method,
      headers: { ...planned.headers, 'x-api-key': options.apiKey },
      body: planned.body ?? null,
      dispatcher: agent,
      signal: AbortSignal.timeout(options.timeoutMs),
    })
      .then(async (res) => {
        await res.body.dump();
        stats.record(String(res.statusCode), performance.now() - t0);
      })
      .catch((err: unknown) => {
        const code = (err as { code?: string; name?: string }).code ?? (err as { name?: string }).name ?? 'error';
        stats.record(code, performance.now() - t0);
      })
      .finally(() => {
        inFlight--;
        pending.delete(p);
      });
    pending.add(p);
  };

  for (;;) {
    const now = performance.now();
    const elapsed = (now - started) / 1000;
    if ((!endless && elapsed >= options.durationSeconds) || options.signal?.aborted === true) break;
    const progress = endless ? (elapsed % options.periodSeconds) / options.periodSeconds : elapsed / options.durationSeconds;
    const targetRate = options.rate * rateFraction(options.profile, endless && options.profile === 'ramp' ? 1 : progress);
    due += (targetRate * (now - lastTick)) / 1000;
    lastTick = now;
    // After a stall (a busy event loop, a paused process) catch up with at most 100 ms worth of requests: the rest
    // is skipped rather than sent as a burst, so no one-second window sees more than 110% of the rate.
    const maxBurst = Math.max(1, targetRate * 0.1);
    if (due > maxBurst) {
      stats.skipped += Math.floor(due - maxBurst);
      due = maxBurst;
    }
    while (due >= 1) {
      due -= 1;
      if (inFlight >= options.maxInFlight) stats.skipped++;
      else fire();
    }
    if (now - lastProgress >= progressIntervalMs) {
      options.onProgress?.({ elapsedSeconds: elapsed, targetRate, inFlight, interval: stats.takeInterval(now), stats });
      lastProgress = now;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.allSettled([...pending]);
  await agent.close();
  return stats;
}
