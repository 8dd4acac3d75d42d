import { instrumentApp, type DependencyCheck, type Lifecycle, type Logger } from '@lookout/telemetry';
import express from 'express';
import type pg from 'pg';
import type { ServiceSettings } from './config.js';
import { faultAdminRoutes, type FaultRegistry } from './faults.js';
import { notFoundHandler, problemErrorHandler, requireJsonBody, type HttpProblem } from './problem.js';

/**
 * The HTTP application every service shares, in order: telemetry endpoints (/metrics, /healthz, /readyz), JSON body
 * parsing with a size limit, /admin/faults, the latency/error faults, the service's own routes (`mount`), then 404
 * and problem+json rendering for every error.
 */
export function createServiceApp(options: {
  http: ServiceSettings;
  logger: Logger;
  checks: readonly DependencyCheck[];
  faults: FaultRegistry;
  classify?: (err: unknown) => HttpProblem | undefined;
  mount: (app: express.Application) => void;
}): { app: express.Application; lifecycle: Lifecycle } {
  const app = express();
  const lifecycle = instrumentApp(app, { checks: options.checks });
  app.use(requireJsonBody());
  app.use(express.json({ limit: options.http.bodyLimitBytes, strict: true }));
  app.use(faultAdminRoutes(options.faults, options.http.adminToken));
  app.use(options.faults.httpFaults());
  options.mount(app);
  app.use(notFoundHandler());
  app.use(problemErrorHandler({ logger: options.logger, ...(options.classify && { classify: options.classify }) }));
  return { app, lifecycle };
}

/** Readiness check of a Postgres pool; Postgres is critical wherever it is used. */
export function postgresCheck(pool: pg.Pool): DependencyCheck {
  return { name: 'postgres', critical: true, check: () => pool.query('SELECT 1') };
}

/** Runs a service's `main`, turning a start-up failure into one line on stderr and exit code 1. */
export function runService(name: string, main: () => Promise<unknown>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${name} failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
