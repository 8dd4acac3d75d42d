import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
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

const CLIENT_ERRORS: Readonly<Record<string, { status: number; title: string; detail: string }>> = {
  HPE_HEADER_OVERFLOW: { status: 431, title: 'Request Header Fields Too Large', detail: 'The request headers are too large.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, title: 'Request Timeout', detail: 'The request was not received in time.' },
};

/**
 * What Node's HTTP parser refuses before the application sees it (a raw byte above 0x7e in the path, a malformed
 * header, …) gets the same problem+json as every other 4xx, not Node's bare "400 Bad Request".
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[err.code ?? ''] ?? { status: 400, title: 'Bad Request', detail: 'The request is not valid HTTP.' };
  const body = JSON.stringify({ type: 'urn:lookout:problem:bad-request', title: known.title, status: known.status, detail: known.detail });
  socket.end(
    `HTTP/1.1 ${known.status} ${known.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** An `Expect` other than 100-continue: 417 as problem+json. */
function answerExpectation(_req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify({
    type: 'urn:lookout:problem:expectation-failed',
    title: 'Expectation Failed',
    status: 417,
    detail: 'Only "Expect: 100-continue" is supported.',
  });
  res.writeHead(417, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) }).end(body);
}

async function listen(app: Application, port: number, host: string, settings: { host: string; port: string }): Promise<Server> {
  const server = app.listen(port, host);
  server.on('clientError', answerClientError);
  server.on('checkExpectation', answerExpectation);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (err: Error & { code?: string }) => {
      // Name the settings: "getaddrinfo ENOTFOUND x" or "EADDRINUSE" alone does not say what to change.
      reject(new Error(`cannot listen on ${settings.host}=${host} ${settings.port}=${port}: ${err.code ?? err.message}`));
    });
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
  const server = await listen(app, options.port, options.host, { host: 'HOST', port: 'PORT' });
  let managementServer: Server | undefined;
  if (options.management !== undefined && options.managementListener !== undefined) {
    try {
      managementServer = await listen(options.management, options.managementListener.port, options.managementListener.host, {
        host: 'MANAGEMENT_HOST',
        port: 'MANAGEMENT_PORT',
      });
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
