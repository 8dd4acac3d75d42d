import type { Application } from 'express';
import { healthRoutes, Lifecycle, type DependencyCheck } from './health.js';
import { metricsHandler, requestMetrics } from './metrics.js';

/**
 * Adds what every service has, before its own routes: RED metrics for each request, `GET /metrics`,
 * `GET /healthz` and `GET /readyz`. Returns the lifecycle to hand to `serve()`.
 */
export function instrumentApp(
  app: Application,
  options: { checks: readonly DependencyCheck[]; readinessTimeoutMs?: number },
): Lifecycle {
  const lifecycle = new Lifecycle();
  app.disable('x-powered-by');
  app.use(requestMetrics());
  app.get('/metrics', metricsHandler());
  app.use(
    healthRoutes({
      checks: options.checks,
      lifecycle,
      ...(options.readinessTimeoutMs === undefined ? {} : { timeoutMs: options.readinessTimeoutMs }),
    }),
  );
  return lifecycle;
}
