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
 * when no route handled it. Only right while the request is inside its router: `routeLabel` is what is recorded.
 */
export function routeTemplate(req: Pick<Request, 'baseUrl' | 'route'>): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route !== 'string') return UNMATCHED_ROUTE;
  const full = `${req.baseUrl}${route === '/' && req.baseUrl !== '' ? '' : route}`;
  return full === '' ? '/' : full;
}

interface LayerMatch {
  /** The part of the path this layer matched: the mount path as the request spelled it. */
  path: string;
  /** What the layer was registered with: a template such as `/products/:id`, never the request's own values. */
  pattern: unknown;
}

/** What this needs of a layer of Express's router (router 2.3: `match()` is pure and reports the pattern). */
interface RouterLayer {
  route?: { methods?: Partial<Record<string, boolean>> };
  handle: unknown;
  match: (path: string) => LayerMatch | false;
}

function isLayer(value: unknown): value is RouterLayer {
  return typeof value === 'object' && value !== null && typeof (value as { match?: unknown }).match === 'function';
}

/** The layers of a router (an app's, or one mounted with `use`); undefined for anything else. */
function layersOf(router: unknown): readonly RouterLayer[] | undefined {
  if (typeof router !== 'function' && (typeof router !== 'object' || router === null)) return undefined;
  const stack = (router as { stack?: unknown }).stack;
  return Array.isArray(stack) && stack.every(isLayer) ? stack : undefined;
}

function handlesMethod(route: NonNullable<RouterLayer['route']>, method: string): boolean {
  const methods = route.methods ?? {};
  const name = method.toLowerCase();
  return methods._all === true || methods[name] === true || (name === 'head' && methods.get === true);
}

function patternText(pattern: unknown): string | undefined {
  if (typeof pattern === 'string') return pattern;
  return pattern instanceof RegExp ? String(pattern) : undefined;
}

/**
 * The template of the first route of `layers` that `method` and `path` match, as the router would pick it, joined
 * to the templates of the routers it is mounted in. Built from registered patterns only, so the label set stays
 * the app's route table whatever clients send.
 */
function findRoute(layers: readonly RouterLayer[], method: string, path: string, mountTemplate: string): string | undefined {
  for (const layer of layers) {
    let match: LayerMatch | false;
    try {
      match = layer.match(path);
    } catch {
      // A malformed %-escape in a parameter: the router fails the request (400) instead of routing it.
      continue;
    }
    const pattern = match === false ? undefined : patternText(match.pattern);
    if (match === false || pattern === undefined) continue;
    if (layer.route !== undefined) {
      if (handlesMethod(layer.route, method)) return routeTemplate({ baseUrl: mountTemplate, route: { path: pattern } });
      continue;
    }
    const nested = layersOf(layer.handle);
    if (nested === undefined) continue;
    const rest = path.slice(match.path.length);
    if (rest !== '' && !rest.startsWith('/')) continue;
    const mount = pattern === '/' ? mountTemplate : `${mountTemplate}${pattern.replace(/\/$/, '')}`;
    const found = findRoute(nested, method, rest === '' ? '/' : rest, mount);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The `http_route` of a request: the template of the route it matched, or would have matched when it was answered
 * before routing (a 401 from authentication, a 429 from the rate limit, an injected fault) or when an error left
 * the router (by then `req.baseUrl` no longer holds the mount path). Found by matching the request against the
 * app's route table once it is answered; `unmatched` when no route takes it (a 404), never the raw path.
 */
export function routeLabel(req: Pick<Request, 'app' | 'baseUrl' | 'route' | 'method' | 'originalUrl'>): string {
  const layers = layersOf((req.app as { router?: unknown } | undefined)?.router);
  if (layers === undefined) return routeTemplate(req);
  const path = req.originalUrl.split('?')[0] ?? '';
  // Should the router's internals change shape, the route that ran still names the request.
  return (path.startsWith('/') ? findRoute(layers, req.method, path, '') : undefined) ?? routeTemplate(req);
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
        http_route: routeLabel(req),
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
