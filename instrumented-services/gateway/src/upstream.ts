import { DEADLINE_MARGIN_MS, HttpProblem, problems, REQUEST_TIMEOUT_HEADER } from '@lookout/http-kit';
import { createCounter, metrics } from '@lookout/telemetry';
import type { Request, Response } from 'express';
import { Agent, errors, RetryAgent, request, type Dispatcher } from 'undici';
import { RetryBudget, type RetryBudgetOptions } from './retry-budget.js';

// error_type: timeout, unreachable, or the upstream's own 5xx status code (as the semantic conventions spell it).
const upstreamFailures = createCounter(metrics.gatewayUpstreamFailures);

// Headers a client may send that upstreams need; everything else stays at the edge.
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'idempotency-key'] as const;
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'retry-after', 'idempotent-replayed', 'cache-control'] as const;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

const RETRY_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'OPTIONS', 'DELETE']);
const RETRY_STATUS_CODES = [502, 503, 504];
const RETRY_ERROR_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);
const BACKOFF = { minMs: 50, maxMs: 500, factor: 2 };
/** At most a tenth of the last 10 s of requests to an upstream are retried, plus one retry a second. */
export const RETRY_BUDGET: RetryBudgetOptions = { ratio: 0.1, minPerSecond: 1, windowSeconds: 10 };

/**
 * Carries the end of one forwarded call (all its attempts, on `performance.now()`'s clock) from `forward` to the
 * interceptor that turns it into each attempt's `request-timeout-ms`; removed there, so it never leaves the gateway.
 */
const CALL_END_HEADER = 'lookout-gateway-call-end';

/**
 * Deeper than any body the shop accepts (an order is 3 levels), and far below the nesting at which re-serialising
 * the parsed body for the upstream would overflow the stack: a 16 KiB body of brackets is ~8000 levels.
 */
const MAX_BODY_DEPTH = 32;

/** Whether a parsed JSON value nests at most `max` arrays/objects deep; iterative, so any depth is safe to measure. */
function nestsWithin(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return false;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return true;
}

/** The JSON an upstream gets for a request body; a body nested too deeply is the client's mistake (400). */
function upstreamBody(body: unknown): string {
  if (!nestsWithin(body, MAX_BODY_DEPTH)) {
    throw problems.validation([{ in: 'body', field: '', message: `must not nest arrays or objects more than ${MAX_BODY_DEPTH} deep` }]);
  }
  return JSON.stringify(body ?? null);
}

function errorCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'unknown';
  const e = err as { code?: unknown; name?: unknown; cause?: unknown };
  if (typeof e.code === 'string') return e.code;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'TIMEOUT';
  return e.cause === undefined ? 'unknown' : errorCode(e.cause);
}

/**
 * One upstream service behind the gateway: a keep-alive pool with connect, header and body timeouts, retries with
 * backoff for idempotent methods only (a POST is never replayed by the gateway) within a retry budget, and errors
 * turned into the status a client should see: 502 when the upstream cannot be reached or fails, 504 when it is
 * too slow.
 */
export class Upstream {
  private readonly dispatcher: Dispatcher;
  private readonly agent: Agent;

  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly retries: number,
    private readonly budget = new RetryBudget(RETRY_BUDGET),
  ) {
    for (const error_type of ['timeout', 'unreachable']) upstreamFailures.inc({ upstream: name, error_type }, 0);
    this.agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connections: 128 });
    // undici's RetryAgent carries the retries out, with our policy: its default one waits out a Retry-After
    // (capped at maxTimeout, so 500 ms) and then retries anyway, and knows no budget. Each attempt passes through
    // the budget interceptor, so each tells the upstream its own time.
    this.dispatcher = new RetryAgent(this.agent.compose(this.attemptBudget), {
      // Which answers count as failures; anything else reaches the caller as it is.
      statusCodes: RETRY_STATUS_CODES,
      retry: (err, { state, opts }, callback) => {
        const delay = this.retryDelay(err, state.counter, opts.method);
        if (delay === undefined) {
          callback(err);
          return undefined;
        }
        // Returned, as undici's own policy does, so that an aborted request cancels the wait.
        return setTimeout(() => callback(null), delay);
      },
    });
  }

  /**
   * The wait before retrying attempt number `attempt`, or undefined not to retry. Retried: idempotent methods,
   * on a 502/503/504 or a failed connection, at most `retries` times, while the retry budget lasts. Never retried:
   * an answer with Retry-After — the upstream asked to be left alone for that long, so the client is told to wait
   * instead of the gateway adding load where it is being shed.
   */
  private retryDelay(err: Error, attempt: number, method: string | undefined): number | undefined {
    if (attempt > this.retries || method === undefined || !RETRY_METHODS.has(method)) return undefined;
    const { statusCode, code, headers } = err as Error & { statusCode?: unknown; code?: unknown; headers?: Record<string, unknown> | null };
    const retriable =
      typeof statusCode === 'number'
        ? RETRY_STATUS_CODES.includes(statusCode) && headers?.['retry-after'] === undefined
        : typeof code === 'string' && RETRY_ERROR_CODES.has(code);
    if (!retriable || !this.budget.tryRetry()) return undefined;
    return Math.min(BACKOFF.minMs * BACKOFF.factor ** (attempt - 1), BACKOFF.maxMs);
  }

  /**
   * Sets `request-timeout-ms` on each attempt: what the gateway will still wait for it (the per-attempt timeout,
   * or less when the call's overall bound ends sooner) minus a margin, so that an upstream out of time answers
   * with its deadline problem before the gateway gives up on it, and stops working when the gateway does. The
   * value is the gateway's alone: a client's header is never forwarded (see FORWARDED_REQUEST_HEADERS).
   */
  private readonly attemptBudget: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
    const headers = opts.headers;
    if (typeof headers !== 'object' || headers === null || Symbol.iterator in headers) return dispatch(opts, handler);
    const { [CALL_END_HEADER]: end, ...rest } = headers as Record<string, unknown>;
    const callLeft = typeof end === 'string' ? Number(end) - performance.now() : Infinity;
    const budgetMs = Math.max(0, Math.floor(Math.min(this.timeoutMs, callLeft) - DEADLINE_MARGIN_MS));
    return dispatch({ ...opts, headers: { ...rest, [REQUEST_TIMEOUT_HEADER]: String(budgetMs) } as Record<string, string> }, handler);
  };

  /** Forwards `req` to `path` on this upstream and sends its answer back (buffered: bodies are small JSON), rewriting Location into `publicPrefix`. */
  async forward(req: Request, res: Response, path: string, extraHeaders: Record<string, string>, publicPrefix: string): Promise<void> {
    const headers: Record<string, string> = { ...extraHeaders };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const hasBody = req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH';
    // Serialised before the call: a failure here is not the upstream's.
    const body = hasBody ? upstreamBody(req.body) : null;
    let upstream: Dispatcher.ResponseData;
    this.budget.recordRequest();
    // The whole call, retries included, stays bounded.
    const callMs = this.timeoutMs * 3;
    headers[CALL_END_HEADER] = String(performance.now() + callMs);
    try {
      upstream = await request(`${this.baseUrl}${path}`, {
        method: req.method,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(callMs),
      });
    } catch (err) {
      if (err instanceof errors.RequestRetryError) throw this.failedWith(err);
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

  /**
   * A 502/503/504 answer that was not retried, or the last of its retries: reported as the upstream's own status,
   * with its Retry-After.
   */
  private failedWith(err: InstanceType<typeof errors.RequestRetryError>): HttpProblem {
    const status = err.statusCode === 503 || err.statusCode === 504 ? err.statusCode : 502;
    upstreamFailures.inc({ upstream: this.name, error_type: String(err.statusCode) });
    const retryAfter = (err.headers as Record<string, unknown> | undefined)?.['retry-after'];
    const attempts = (err.data as { count?: unknown } | undefined)?.count;
    return new HttpProblem({
      status,
      type: status === 503 ? 'upstream-unavailable' : 'upstream-error',
      title: status === 503 ? 'Service Unavailable' : status === 504 ? 'Gateway Timeout' : 'Bad Gateway',
      detail:
        typeof attempts === 'number' && attempts > 1
          ? `The ${this.name} service answered ${err.statusCode} to each of ${attempts} attempts.`
          : `The ${this.name} service answered ${err.statusCode}.`,
      extensions: { upstream: this.name },
      headers: { 'Retry-After': typeof retryAfter === 'string' ? retryAfter : '1' },
      cause: err,
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
