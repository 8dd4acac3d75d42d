import { HttpProblem } from '@lookout/http-kit';
import { createCounter, metrics, type Logger } from '@lookout/telemetry';
import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { principalOf } from './auth.js';

const rejected = createCounter(metrics.gatewayRateLimitedRequests);

export interface Budget {
  requests: number;
  windowSeconds: number;
}

function setHeaders(res: Response, budget: Budget, state: RateLimiterRes): void {
  // draft-ietf-httpapi-ratelimit-headers, in the widely deployed three-header form.
  res.setHeader('RateLimit-Policy', `${budget.requests};w=${budget.windowSeconds}`);
  res.setHeader('RateLimit-Limit', String(budget.requests));
  res.setHeader('RateLimit-Remaining', String(Math.max(0, state.remainingPoints)));
  res.setHeader('RateLimit-Reset', String(Math.ceil(state.msBeforeNext / 1000)));
}

/**
 * Budgets shared by all gateway instances through Redis (rate-limiter-flexible), one limiter per distinct budget.
 * If Redis is unreachable each instance falls back to an in-memory budget of the same size (the insurance
 * limiter): limits loosen by the number of instances instead of failing every request.
 */
class Budgets {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  constructor(
    private readonly redis: Redis,
    private readonly scope: string,
  ) {}

  limiter(budget: Budget): RateLimiterRedis {
    // The policy is part of the key: changing it starts fresh counters instead of reinterpreting old ones.
    const keyPrefix = `ratelimit:${this.scope}:${budget.requests}per${budget.windowSeconds}s`;
    let limiter = this.limiters.get(keyPrefix);
    if (limiter === undefined) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        useRedisPackage: false,
        keyPrefix,
        points: budget.requests,
        duration: budget.windowSeconds,
        insuranceLimiter: new RateLimiterMemory({ points: budget.requests, duration: budget.windowSeconds }),
      });
      this.limiters.set(keyPrefix, limiter);
    }
    return limiter;
  }
}

function limit(
  budgets: Budgets,
  logger: Logger,
  who: (req: Request, res: Response) => { key: string; budget: Budget; label: string },
): RequestHandler {
  return async (req, res, next) => {
    const { key, budget, label } = who(req, res);
    try {
      const state = await budgets.limiter(budget).consume(key);
      setHeaders(res, budget, state);
      next();
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        logger.warn('rate limiter failed, letting the request through', { err: String(err) });
        next();
        return;
      }
      setHeaders(res, budget, err);
      rejected.inc();
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new HttpProblem({
        status: 429,
        type: 'rate-limited',
        title: 'Too many requests',
        detail: `The budget of ${budget.requests} requests per ${budget.windowSeconds} s ${label} is spent; retry in ${retryAfter} s.`,
        headers: { 'Retry-After': String(retryAfter) },
      });
    }
  };
}

/**
 * Per client address, before authentication: every request (bad credentials, /readyz, /admin, …) spends from the
 * peer address's budget, so a flood is cut off before it costs a key lookup or a JWT verification.
 */
export function addressRateLimit(redis: Redis, budget: Budget, logger: Logger): RequestHandler {
  const budgets = new Budgets(redis, 'ip');
  return limit(budgets, logger, (req) => ({ key: req.socket.remoteAddress ?? 'unknown', budget, label: 'from this address' }));
}

/** Per authenticated client: its key's own budget, or `fallback`. Runs after authenticate(). */
export function clientRateLimit(redis: Redis, fallback: Budget, logger: Logger): RequestHandler {
  const budgets = new Budgets(redis, 'client');
  return limit(budgets, logger, (_req, res) => {
    const principal = principalOf(res);
    return { key: principal.id, budget: principal.budget ?? fallback, label: 'for this client' };
  });
}
