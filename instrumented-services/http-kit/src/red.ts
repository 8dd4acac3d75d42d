import { context } from '@opentelemetry/api';
import {
  createHistogram,
  exemplarFor,
  metrics,
  observeWithExemplar,
  renderMetrics,
  registry,
  UNMATCHED_ROUTE,
  UNTRACED_PATHS,
  type Logger,
} from '@lookout/telemetry';
import type { Request, RequestHandler, Response } from 'express';
import type { AccessLogLevel } from './settings.js';

export const httpServerDuration = createHistogram(metrics.httpServerRequestDuration);

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/**
 * The route template a request matched (`/products/:id`), including the mount path of its router; `unmatched`
 * when no route handled it.
 */
export function routeTemplate(req: Pick<Request, 'baseUrl' | 'route'>): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route !== 'string') return UNMATCHED_ROUTE;
  const full = `${req.baseUrl}${route === '/' && req.baseUrl !== '' ? '' : route}`;
  return full === '' ? '/' : full;
}

/** Whether a request is access-logged: decided from its trace id, so a trace is logged in every service or none. */
export function sampledForAccessLog(traceId: string | undefined, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  if (traceId === undefined) return Math.random() < ratio;
  return Number.parseInt(traceId.slice(-8), 16) / 0x1_0000_0000 < ratio;
}

const SEVERITY: Record<Exclude<AccessLogLevel, 'off'>, number> = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5 };

export interface AccessLogOptions {
  logger: Logger;
  level: AccessLogLevel;
  sampleRatio: number;
}

/**
 * For every request but probes and scrapes: records `http_server_request_duration_seconds` (method, route template,
 * status code, the request's trace as exemplar) and writes one access-log line `request` with the same fields,
 * its duration and, through the winston instrumentation, its trace_id and span_id. Failed requests (5xx) are
 * always logged, at warn or above; the others at `level`, for the sampled share of traces.
 */
export function requestTelemetry(accessLog?: AccessLogOptions): RequestHandler {
  return (req: Request, res: Response, next) => {
    if (UNTRACED_PATHS.has(req.path)) {
      next();
      return;
    }
    const start = process.hrtime.bigint();
    // The server span is active here; by the time 'finish' fires the context may be gone.
    const exemplar = exemplarFor();
    const active = context.active();
    const record = () => {
      res.removeListener('finish', record);
      res.removeListener('close', record);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const labels = {
        http_request_method: KNOWN_METHODS.has(req.method) ? req.method : '_OTHER',
        http_route: routeTemplate(req),
        // A client that went away before the response is recorded as 499, as nginx does.
        http_response_status_code: res.writableFinished ? res.statusCode : 499,
      };
      observeWithExemplar(httpServerDuration, labels, seconds, exemplar);
      if (accessLog === undefined || accessLog.level === 'off') return;
      const failed = labels.http_response_status_code >= 500;
      if (!failed && !sampledForAccessLog(exemplar?.trace_id, accessLog.sampleRatio)) return;
      const level = failed && SEVERITY[accessLog.level] > SEVERITY.warn ? 'warn' : accessLog.level;
      context.with(active, () => {
        accessLog.logger.log(level, 'request', { ...labels, duration_ms: Math.round(seconds * 1e6) / 1e3 });
      });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

/** GET /metrics */
export function metricsHandler(): RequestHandler {
  return (_req, res, next) => {
    renderMetrics()
      .then((body) => {
        res.setHeader('Content-Type', registry.contentType);
        res.send(body);
      })
      .catch(next);
  };
}
