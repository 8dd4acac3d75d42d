import { HttpProblem } from '@lookout/http-kit';
import { createCounter, metrics } from '@lookout/telemetry';
import type { Request, Response } from 'express';
import { Agent, errors, RetryAgent, request, type Dispatcher } from 'undici';

// error_type: timeout, unreachable, or the upstream's own 5xx status code (as the semantic conventions spell it).
const upstreamFailures = createCounter(metrics.gatewayUpstreamFailures);

// Headers a client may send that upstreams need; everything else stays at the edge.
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'idempotency-key'] as const;
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'retry-after', 'idempotent-replayed', 'cache-control'] as const;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'unknown';
  const e = err as { code?: unknown; name?: unknown; cause?: unknown };
  if (typeof e.code === 'string') return e.code;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'TIMEOUT';
  return e.cause === undefined ? 'unknown' : errorCode(e.cause);
}

/**
 * One upstream service behind the gateway: a keep-alive pool with connect, header and body timeouts, retries with
 * backoff for idempotent methods only (a POST is never replayed by the gateway), and errors turned into the
 * status a client should see: 502 when the upstream cannot be reached or fails, 504 when it is too slow.
 */
export class Upstream {
  private readonly dispatcher: Dispatcher;
  private readonly agent: Agent;

  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    retries: number,
  ) {
    for (const error_type of ['timeout', 'unreachable']) upstreamFailures.inc({ upstream: name, error_type }, 0);
    this.agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connections: 128 });
    this.dispatcher = new RetryAgent(this.agent, {
      maxRetries: retries,
      minTimeout: 50,
      maxTimeout: 500,
      timeoutFactor: 2,
      methods: ['GET', 'HEAD', 'PUT', 'OPTIONS', 'DELETE'],
      statusCodes: [502, 503, 504],
      errorCodes: ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'],
    });
  }

  /** Forwards `req` to `path` on this upstream and sends its answer back (buffered: bodies are small JSON), rewriting Location into `publicPrefix`. */
  async forward(req: Request, res: Response, path: string, extraHeaders: Record<string, string>, publicPrefix: string): Promise<void> {
    const headers: Record<string, string> = { ...extraHeaders };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const hasBody = req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH';
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await request(`${this.baseUrl}${path}`, {
        method: req.method,
        headers,
        body: hasBody ? JSON.stringify(req.body ?? null) : null,
        dispatcher: this.dispatcher,
        // The whole call, retries included, stays bounded.
        signal: AbortSignal.timeout(this.timeoutMs * 3),
      });
    } catch (err) {
      if (err instanceof errors.RequestRetryError) throw this.exhausted(err);
      const code = errorCode(err);
      const timeout = TIMEOUT_CODES.has(code) || code === 'TIMEOUT';
      upstreamFailures.inc({ upstream: this.name, error_type: timeout ? 'timeout' : 'unreachable' });
      throw new HttpProblem({
        status: timeout ? 504 : 502,
        type: timeout ? 'upstream-timeout' : 'upstream-unreachable',
        title: timeout ? 'Gateway Timeout' : 'Bad Gateway',
        detail: timeout
          ? `The ${this.name} service did not answer within ${this.timeoutMs} ms.`
          : `The ${this.name} service cannot be reached (${code}).`,
        extensions: { upstream: this.name },
        cause: err,
      });
    }
    const status = upstream.statusCode;
    if (status >= 500 && status !== 503 && status !== 504) {
      await upstream.body.dump();
      upstreamFailures.inc({ upstream: this.name, error_type: String(status) });
      throw new HttpProblem({
        status: 502,
        type: 'upstream-error',
        title: 'Bad Gateway',
        detail: `The ${this.name} service failed to answer (status ${status}).`,
        extensions: { upstream: this.name },
      });
    }
    res.status(status);
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers[name];
      if (typeof value === 'string') res.setHeader(name, value);
    }
    const location = upstream.headers.location;
    if (typeof location === 'string' && location.startsWith('/')) res.setHeader('Location', `${publicPrefix}${location}`);
    res.send(Buffer.from(await upstream.body.arrayBuffer()));
  }

  /** Retries ran out on a 502/503/504 answer: report it as the upstream's own status, with its Retry-After. */
  private exhausted(err: InstanceType<typeof errors.RequestRetryError>): HttpProblem {
    const status = err.statusCode === 503 || err.statusCode === 504 ? err.statusCode : 502;
    upstreamFailures.inc({ upstream: this.name, error_type: String(err.statusCode) });
    const retryAfter = (err.headers as Record<string, unknown> | undefined)?.['retry-after'];
    return new HttpProblem({
      status,
      type: status === 503 ? 'upstream-unavailable' : 'upstream-error',
      title: status === 503 ? 'Service Unavailable' : status === 504 ? 'Gateway Timeout' : 'Bad Gateway',
      detail: `The ${this.name} service answered ${err.statusCode} to every attempt.`,
      extensions: { upstream: this.name },
      headers: { 'Retry-After': typeof retryAfter === 'string' ? retryAfter : '1' },
      cause: err,
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
