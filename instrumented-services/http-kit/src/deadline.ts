import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { HttpProblem } from './problem.js';

/**
 * The time a caller still gives this request, in milliseconds from when it arrives: relative, not an absolute
 * time, so that clocks that disagree between hosts cannot shorten or stretch it (the transit time is not counted;
 * the sender keeps a margin for it). Named for what it holds; no `x-` prefix (RFC 6648). The gateway sets it on
 * every upstream call and never passes on a client's; services read it once, in `requestDeadline`.
 */
export const REQUEST_TIMEOUT_HEADER = 'request-timeout-ms';

/**
 * What a caller keeps for itself when it passes its remaining budget on: the callee's deadline answer must reach
 * it, and it must still be able to answer its own caller, before its own time runs out.
 */
export const DEADLINE_MARGIN_MS = 50;

/** Nine digits at most: anything longer is capped anyway, and the number stays exact. */
const TIMEOUT_VALUE = /^\d{1,9}$/;

/** The request's deadline on the monotonic clock (`performance.now()`), and where its budget came from. */
interface RequestDeadline {
  readonly at: number;
  readonly budgetMs: number;
  readonly source: 'header' | 'default';
}

const storage = new AsyncLocalStorage<RequestDeadline>();
const arrived = new WeakMap<IncomingMessage, RequestDeadline>();

/**
 * The budget a `request-timeout-ms` value grants, capped at `maxMs` so that a caller cannot ask for hours;
 * undefined (use the service's own) for anything but one non-negative integer: text, a negative or fractional
 * number, an empty value, the header twice (Node joins repeated values with a comma). 0 is a deadline that has
 * already passed.
 */
export function parseRequestTimeout(value: string | string[] | undefined, maxMs: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (!TIMEOUT_VALUE.test(trimmed)) return undefined;
  return Math.min(Number(trimmed), maxMs);
}

/** The request's time left in milliseconds (negative once passed); undefined outside a request (a background job). */
export function remainingMs(): number | undefined {
  const deadline = storage.getStore();
  return deadline === undefined ? undefined : deadline.at - performance.now();
}

/**
 * The answer of a request whose budget ran out, wherever that happened (`stage`: `arrival`, `postgres-pool`,
 * `cache-wait`, …). 504, as gRPC's DEADLINE_EXCEEDED maps to HTTP, so that a client sees the same status as when
 * the gateway itself gives up; with Retry-After like every other "not now" answer here, which also keeps the
 * gateway from retrying an attempt that already used its whole budget.
 */
export function deadlineExceeded(stage: string, cause?: unknown): HttpProblem {
  const deadline = storage.getStore();
  return new HttpProblem({
    status: 504,
    type: 'deadline-exceeded',
    title: 'Deadline exceeded',
    detail: `The request's time budget ran out (${stage}) before it could be answered; retry later.`,
    extensions: { stage, ...(deadline !== undefined && { budgetMs: deadline.budgetMs, budgetSource: deadline.source }) },
    headers: { 'Retry-After': '1' },
    cause,
  });
}

/** Throws the deadline problem when the request's time is up, before `stage` touches a dependency. */
export function checkDeadline(stage: string): void {
  const left = remainingMs();
  if (left !== undefined && left <= 0) throw deadlineExceeded(stage);
}

/**
 * `work`, or the deadline problem when the request's time runs out first (at once if it already has). `work` is
 * not cancelled, only no longer waited for: `onLate` gets its value should it still arrive (a pooled connection
 * to give back). Outside a request, `work` itself.
 */
export function withinDeadline<T>(work: Promise<T>, stage: string, onLate?: (value: T) => void): Promise<T> {
  const left = remainingMs();
  if (left === undefined) return work;
  const abandon = () => {
    work.then((value) => onLate?.(value)).catch(() => undefined);
  };
  if (left <= 0) {
    abandon();
    return Promise.reject(deadlineExceeded(stage));
  }
  const problem = deadlineExceeded(stage);
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandon();
      reject(problem);
    }, Math.ceil(left));
  });
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
}

/** Runs `fn` with a deadline `budgetMs` from now: for tests, and for work that is a request without HTTP. */
export function runWithDeadline<T>(budgetMs: number, fn: () => T): T {
  return storage.run({ at: performance.now() + budgetMs, budgetMs, source: 'default' }, fn);
}

/**
 * The request deadline as two middlewares. `arrive`, first in the chain, fixes it when the request arrives: the
 * header's budget (see `parseRequestTimeout`) or `maxMs` when there is none or it is not one number. With
 * `edge` the header is ignored: the edge sets deadlines and takes none from outside. `enter`, placed after body
 * parsing (whose stream callbacks do not keep an AsyncLocalStorage context), makes it the deadline of everything
 * the request does from there on, and answers a request whose deadline has already passed at once, before any
 * dependency is touched.
 */
export function requestDeadline(options: { maxMs: number; edge: boolean }): { arrive: RequestHandler; enter: RequestHandler } {
  return {
    arrive: (req, _res, next) => {
      const fromHeader = options.edge ? undefined : parseRequestTimeout(req.headers[REQUEST_TIMEOUT_HEADER], options.maxMs);
      const budgetMs = fromHeader ?? options.maxMs;
      arrived.set(req, { at: performance.now() + budgetMs, budgetMs, source: fromHeader === undefined ? 'default' : 'header' });
      next();
    },
    enter: (req, _res, next) => {
      const deadline = arrived.get(req);
      if (deadline === undefined) {
        next();
        return;
      }
      storage.run(deadline, () => {
        if (deadline.at - performance.now() <= 0) next(deadlineExceeded('arrival'));
        else next();
      });
    },
  };
}
