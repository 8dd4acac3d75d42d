import { isPgUnavailable } from '@lookout/clients';
import { ZodError } from 'zod';

/**
 * What a failed attempt says about the message:
 * - `invalid`: the message itself is bad (not JSON, not an order event). No attempt can succeed: dead-letter now.
 * - `dependency`: Postgres is down, restarting, out of connections or too slow. Nothing is wrong with the message:
 *   it must never be dead-lettered, only held until the dependency is back.
 * - `processing`: anything else (a bug, a constraint we did not expect): retried a bounded number of times, then
 *   dead-lettered for a human, who can replay it once the cause is fixed.
 */
export type FailureKind = 'invalid' | 'dependency' | 'processing';

// query_canceled (statement timeout), serialization failure, deadlock, lock not available: transient by nature.
const TRANSIENT_SQLSTATES = new Set(['57014', '40001', '40P01', '55P03']);

export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof ZodError || err instanceof SyntaxError) return 'invalid';
  if (isPgUnavailable(err)) return 'dependency';
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && TRANSIENT_SQLSTATES.has(code)) return 'dependency';
  return 'processing';
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** Capped exponential delay before retry number `retry` (1 for the first retry). */
export function backoffDelay(backoff: Backoff, retry: number): number {
  const exponent = Math.min(Math.max(retry - 1, 0), 30);
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** exponent);
}
