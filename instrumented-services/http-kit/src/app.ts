import type { Logger } from '@lookout/telemetry';
import express from 'express';
import { faultAdminRoutes, type FaultRegistry, type NamedFault } from './faults.js';
import { healthRoutes, Lifecycle, livenessRoute, monitorDependencies, type DependencyCheck } from './health.js';
import { requestDeadline } from './deadline.js';
import { notFoundHandler, problemErrorHandler, requireJsonBody, type HttpProblem } from './problem.js';
import { metricsHandler, requestTelemetry } from './red.js';
import type { ServiceSettings } from './settings.js';
import { traceResponse } from './trace-response.js';

/**
 * The HTTP application every service shares, in order: RED metrics and the access log for every request, the
 * `traceresponse` header, the telemetry endpoints (/metrics, /healthz, /readyz), JSON body parsing with a size limit, /admin/faults, the
 * latency/error faults, the request deadline (`request-timeout-ms`, see deadline.ts), the service's own routes (`mount`), then 404 and problem+json rendering for every error.
 *
 * With a management listener (`http.management`, MANAGEMENT_PORT) /metrics, /readyz and /admin move to a second
 * application, `management`, for `serve()` to listen on: the public one keeps /healthz and the API, and answers
 * the others 404 like any unknown route. The management application records no RED metrics and writes no access
 * log, so that scrapes, probes and drills never count as the service's API traffic.
 * Returns the lifecycle to hand to `serve()`.
 */
export function createServiceApp<S extends NamedFault>(options: {
  http: ServiceSettings;
  logger: Logger;
  checks: readonly DependencyCheck[];
  faults: FaultRegistry<S>;
  classify?: (err: unknown) => HttpProblem | undefined;
  /** Runs for every request before anything else answers it (an edge service's per-address rate limit). */
  before?: express.RequestHandler;
  /**
   * The service is the edge (the gateway): it ignores a client's `request-timeout-ms` and gives each request its
   * own REQUEST_TIMEOUT_MS; the deadlines its upstreams see are the ones it sets.
   */
  edge?: boolean;
  mount: (app: express.Application) => void;
}): { app: express.Application; lifecycle: Lifecycle; management: express.Application | undefined } {
  const app = express();
  const lifecycle = new Lifecycle();
  const separate = options.http.managementListener !== undefined;
  const errors = problemErrorHandler({ logger: options.logger, ...(options.classify && { classify: options.classify }) });
  const deadline = requestDeadline({ maxMs: options.http.requestTimeoutMs, edge: options.edge ?? false });
  app.disable('x-powered-by');
  if (options.http.requestTelemetry) app.use(requestTelemetry({ logger: options.logger, ...options.http.accessLog }));
  app.use(deadline.arrive);
  app.use(traceResponse());
  if (options.before !== undefined) app.use(options.before);
  monitorDependencies(options.checks, lifecycle);
  if (separate) {
    app.use(livenessRoute());
  } else {
    app.get('/metrics', metricsHandler());
    app.use(healthRoutes({ checks: options.checks, lifecycle }));
  }
  app.use(requireJsonBody());
  app.use(express.json({ limit: options.http.bodyLimitBytes, strict: true }));
  if (!separate) app.use(faultAdminRoutes(options.faults, options.http.adminToken));
  app.use(options.faults.httpFaults());
  // After the body parser and the injected latency: a request whose time ran out meanwhile is answered here.
  app.use(deadline.enter);
  options.mount(app);
  app.use(notFoundHandler());
  app.use(errors);
  return { app, lifecycle, management: separate ? managementApp(options, lifecycle, errors) : undefined };
}

/** /healthz, /readyz, /metrics and /admin/faults, for the management listener: no faults, no service routes. */
function managementApp<S extends NamedFault>(
  options: { http: ServiceSettings; checks: readonly DependencyCheck[]; faults: FaultRegistry<S> },
  lifecycle: Lifecycle,
  errors: express.ErrorRequestHandler,
): express.Application {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler());
  app.use(healthRoutes({ checks: options.checks, lifecycle }));
  app.use(requireJsonBody());
  app.use(express.json({ limit: options.http.bodyLimitBytes, strict: true }));
  app.use(faultAdminRoutes(options.faults, options.http.adminToken));
  app.use(notFoundHandler());
  app.use(errors);
  return app;
}

/** Runs a service's `main`, turning a start-up failure into one line on stderr and exit code 1. */
export function runService(name: string, main: () => Promise<unknown>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${name} failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
