import type { Server } from 'node:http';
import type { Application } from 'express';
import type { Lifecycle } from './health.js';
import { shutdownTelemetry, type Logger } from '@lookout/telemetry';

export interface ServeOptions {
  port: number;
  host: string;
  /** Where the management application listens (http-kit's settings: MANAGEMENT_PORT, MANAGEMENT_HOST). */
  managementListener?: { port: number; host: string } | undefined;
  /** `createServiceApp`'s management application: required exactly when `managementListener` is set. */
  management?: Application | undefined;
  logger: Logger;
  lifecycle: Lifecycle;
  /** Hard limit from the first signal to exit; in-flight requests get most of it, cleanup and flushing the rest. */
  shutdownTimeoutMs: number;
  /** How long readiness reports `draining` while the listener still serves, before it closes (0: close at once). */
  readinessDrainMs?: number;
  /** Run in order after the server stopped: close pools and clients. */
  onShutdown?: readonly (() => Promise<unknown>)[];
  /** Called instead of process.exit (tests); receives the exit code. */
  exit?: (code: number) => void;
}

export interface RunningServer {
  readonly server: Server;
  /** The port actually bound (differs from the option when it was 0). */
  readonly port: number;
  /** The management listener, when there is one. */
  readonly managementServer: Server | undefined;
  /** The management port actually bound, when there is one. */
  readonly managementPort: number | undefined;
  /** Starts the same graceful shutdown a SIGTERM would. */
  shutdown(reason: string): Promise<void>;
}

async function listen(app: Application, port: number, host: string): Promise<Server> {
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}

function boundPort(server: Server, fallback: number): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : fallback;
}

function closeServer(server: Server, drainMs: number, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      logger.warn('drain deadline reached, closing remaining connections', { drain_ms: drainMs });
      server.closeAllConnections();
    }, drainMs);
    // close() stops accepting and closes idle keep-alive sockets; a busy one becomes idle after its response and
    // would otherwise linger until its keep-alive timeout, so idle sockets are closed again as requests finish.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      resolve();
    });
  });
}

/**
 * Listens (on the management port too, when there is one), and on SIGTERM or SIGINT shuts down gracefully: readiness turns to `draining` (and the server keeps
 * serving for `readinessDrainMs`), the server stops accepting, in-flight requests finish (forced after 80% of the deadline), `onShutdown` hooks close pools and clients,
 * telemetry is flushed, and the process exits 0 — or 1 if the hard deadline passes first.
 */
export async function serve(app: Application, options: ServeOptions): Promise<RunningServer> {
  const { logger, lifecycle } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  if ((options.managementListener === undefined) !== (options.management === undefined)) {
    // A service that ignored MANAGEMENT_PORT would serve /metrics and /admin nowhere, or on its public port.
    throw new Error('serve(): a management listener needs the management application of createServiceApp, and the other way round');
  }
  const server = await listen(app, options.port, options.host);
  let managementServer: Server | undefined;
  if (options.management !== undefined && options.managementListener !== undefined) {
    try {
      managementServer = await listen(options.management, options.managementListener.port, options.managementListener.host);
    } catch (err) {
      server.close();
      throw err;
    }
  }
  const port = boundPort(server, options.port);
  const managementPort = managementServer === undefined ? undefined : boundPort(managementServer, options.managementListener?.port ?? 0);
  logger.info('listening', {
    host: options.host,
    port,
    ...(managementServer !== undefined && { management_host: options.managementListener?.host, management_port: managementPort }),
  });

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    shuttingDown ??= (async () => {
      const started = performance.now();
      const hardDeadline = setTimeout(() => {
        logger.error('shutdown deadline exceeded, exiting', { timeout_ms: options.shutdownTimeoutMs });
        exit(1);
      }, options.shutdownTimeoutMs);
      hardDeadline.unref();
      logger.info('shutting down', { reason });
      lifecycle.startDraining();
      const drainMs = options.readinessDrainMs ?? 0;
      if (drainMs > 0) {
        // Load balancers see /readyz fail (on the management port, when there is one) and stop sending; requests
      // that still arrive meanwhile are served on both listeners.
        logger.info('readiness drain: not ready, still serving', { drain_ms: drainMs });
        await new Promise((resolve) => setTimeout(resolve, drainMs));
      }
      const closeWithin = Math.floor(options.shutdownTimeoutMs * 0.8) - drainMs;
      await Promise.all([server, managementServer].flatMap((srv) => (srv === undefined ? [] : [closeServer(srv, closeWithin, logger)])));
      for (const hook of options.onShutdown ?? []) {
        try {
          await hook();
        } catch (err) {
          logger.warn('shutdown hook failed', { err });
        }
      }
      logger.info('shutdown complete', { duration_ms: Math.round(performance.now() - started) });
      await shutdownTelemetry();
      clearTimeout(hardDeadline);
      exit(0);
    })();
    return shuttingDown;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (shuttingDown !== undefined) {
        logger.warn('already shutting down', { signal });
        return;
      }
      void shutdown(signal);
    });
  }
  return { server, port, managementServer, managementPort, shutdown };
}
