import { HttpProblem } from '@lookout/http-kit';
import { createCounter, metrics, type Logger } from '@lookout/telemetry';
import type { RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { principalOf } from './auth.js';

const rejected = createCounter(metrics.gatewayRateLimitedRequests);

function setHeaders(res: Response, limit: number, windowSeconds: number, state: RateLimiterRes): void {
  // draft-ietf-httpapi-ratelimit-headers, in the widely deployed three-header form.
  res.setHeader('RateLimit-Policy', `${limit};w=${windowSeconds}`);
  res.setHeader('RateLimit-Limit', String(limit));
  res.setHeader('RateLimit-Remaining', String(Math.max(0, state.remainingPoints)));
  res.setHeader('RateLimit-Reset', String(Math.ceil(state.msBeforeNext / 1000)));
}

/**
 * A fixed budget of requests per client and window, shared by all gateway instances through Redis
 * (rate-limiter-flexible). If Redis is unreachable each instance falls back to an in-memory budget of the same size
 * (the insurance limiter): limits loosen by the number of instances instead of failing every request.
 */
export function rateLimit(redis: Redis, options: { requests: number; windowSeconds: number }, logger: Logger): RequestHandler {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    useRedisPackage: false,
    // The policy is part of the key: changing it starts fresh counters instead of reinterpreting old ones.
    keyPrefix: `ratelimit:${options.requests}per${options.windowSeconds}s`,
    points: options.requests,
    duration: options.windowSeconds,
    insuranceLimiter: new RateLimiterMemory({ points: options.requests, duration: options.windowSeconds }),
  });
  return async (_req, res, next) => {
    const client = principalOf(res).id;
    try {
      const state = await limiter.consume(client);
      setHeaders(res, options.requests, options.windowSeconds, state);
      next();
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        logger.warn('rate limiter failed, letting the request through', { err: String(err) });
        next();
        return;
      }
      setHeaders(res, options.requests, options.windowSeconds, err);
      rejected.inc();
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new HttpProblem({
        status: 429,
        type: 'rate-limited',
        title: 'Too many requests',
        detail: `The budget of ${options.requests} requests per ${options.windowSeconds} s is spent; retry in ${retryAfter} s.`,
        headers: { 'Retry-After': String(retryAfter) },
      });
    }
  };
}
