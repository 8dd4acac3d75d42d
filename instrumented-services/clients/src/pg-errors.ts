import { HttpProblem, problems } from '@lookout/http-kit';

// SQLSTATE classes and node-postgres/socket error codes that mean "the database is not reachable right now",
// as opposed to a bug in our query: those are answered with 503 and Retry-After, never 500.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Client has encountered a connection error',
  'Connection ended',
];

function field(err: object, name: string): unknown {
  return (err as Record<string, unknown>)[name];
}

/** True for errors that mean Postgres is down, restarting or out of connections. */
export function isPgUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = field(err, 'code');
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) return true;
  const message = field(err, 'message');
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true;
  // AggregateError from a connect() that tried several addresses.
  const nested = field(err, 'errors');
  return Array.isArray(nested) && nested.some(isPgUnavailable);
}

/** Maps Postgres errors to the problem a client should see; undefined for errors that are our own bugs. */
export function classifyPgError(err: unknown): HttpProblem | undefined {
  if (isPgUnavailable(err)) return problems.dependencyUnavailable('postgres', 2, err);
  if (typeof err !== 'object' || err === null) return undefined;
  const code = field(err, 'code');
  if (code === '57014') {
    return new HttpProblem({
      status: 503,
      type: 'query-timeout',
      title: 'Service unavailable',
      detail: 'The database did not answer in time; retry later.',
      headers: { 'Retry-After': '2' },
      cause: err,
    });
  }
  return undefined;
}
