import { createGauge } from '@lookout/telemetry';
import { metrics } from '@lookout/telemetry/contract';
import { Router, type Request, type Response } from 'express';

/** One dependency that readiness depends on. */
export interface DependencyCheck {
  readonly name: string;
  /** A critical dependency down makes the service unready (503); a non-critical one only degrades it (200). */
  readonly critical: boolean;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  readonly check: () => Promise<unknown>;
}

export type CheckStatus = 'up' | 'down';
export type ReadinessStatus = 'ready' | 'degraded' | 'unavailable' | 'draining';

export interface ReadinessReport {
  status: ReadinessStatus;
  checks: Record<string, { status: CheckStatus; critical: boolean; error?: string; duration_ms: number }>;
}

/** Shared between the health routes and `serve()`: once draining, readiness fails so load balancers move away. */
export class Lifecycle {
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  startDraining(): void {
    this.#draining = true;
  }
}

async function runCheck(dep: DependencyCheck, timeoutMs: number): Promise<ReadinessReport['checks'][string]> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      dep.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
    return { status: 'up', critical: dep.critical, duration_ms: Math.round(performance.now() - start) };
  } catch (err) {
    return {
      status: 'down',
      critical: dep.critical,
      error: err instanceof Error ? err.message : String(err),
      duration_ms: Math.round(performance.now() - start),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check in parallel, each bounded by `timeoutMs`. */
export async function readiness(
  checks: readonly DependencyCheck[],
  lifecycle: Lifecycle,
  timeoutMs: number,
): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map(async (c) => [c.name, await runCheck(c, timeoutMs)] as const));
  const report: ReadinessReport = { status: 'ready', checks: Object.fromEntries(results) };
  const down = results.filter(([, r]) => r.status === 'down');
  if (lifecycle.draining) report.status = 'draining';
  else if (down.some(([, r]) => r.critical)) report.status = 'unavailable';
  else if (down.length > 0) report.status = 'degraded';
  return report;
}

const dependencyUp = createGauge(metrics.dependencyUp);

/**
 * Runs the readiness checks every `intervalMs` in the background and publishes each as `dependency_up`, so that
 * alerts see a dependency down from the service's side although nothing may be probing /readyz, and without
 * making /metrics wait on a dependency. Stops by itself once the service drains; the timer never holds the
 * process open.
 */
export function monitorDependencies(
  checks: readonly DependencyCheck[],
  lifecycle: Lifecycle,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): void {
  if (checks.length === 0) return;
  const timeoutMs = options.timeoutMs ?? 1000;
  const update = async () => {
    if (lifecycle.draining) {
      clearInterval(timer);
      return;
    }
    const report = await readiness(checks, lifecycle, timeoutMs);
    for (const [name, result] of Object.entries(report.checks)) dependencyUp.set({ dependency_name: name }, result.status === 'up' ? 1 : 0);
  };
  const timer = setInterval(() => void update(), options.intervalMs ?? 10_000);
  timer.unref();
  void update();
}

/** `GET /healthz` alone: what a public port with a separate management listener keeps (container healthchecks use it). */
export function livenessRoute(): Router {
  const router = Router();
  router.get('/healthz', (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'ok' });
  });
  return router;
}

/**
 * `GET /healthz`: liveness, 200 while the process can answer at all (it checks no dependency, so a database outage
 * never gets the service restarted). `GET /readyz`: readiness, 200 `ready` or `degraded`, 503 `unavailable` when a
 * critical dependency is down or `draining` during shutdown; the body lists every check.
 */
export function healthRoutes(options: {
  checks: readonly DependencyCheck[];
  lifecycle: Lifecycle;
  timeoutMs?: number;
}): Router {
  const router = livenessRoute();
  const timeoutMs = options.timeoutMs ?? 1000;
  router.get('/readyz', async (_req: Request, res: Response) => {
    const report = await readiness(options.checks, options.lifecycle, timeoutMs);
    res.setHeader('Cache-Control', 'no-store');
    res.status(report.status === 'ready' || report.status === 'degraded' ? 200 : 503).json(report);
  });
  return router;
}
