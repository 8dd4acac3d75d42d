import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';

/** RFC 9457 problem details. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export interface FieldError {
  /** Where the bad value was: path parameter, query string, header or body. */
  in: 'path' | 'query' | 'header' | 'body';
  /** Dotted path of the field inside that part, empty for the part as a whole. */
  field: string;
  message: string;
}

const TYPE_BASE = 'urn:lookout:problem:';

/** An error that is answered with a problem+json body; thrown by handlers, rendered by `problemErrorHandler`. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(init: {
    status: number;
    type: string;
    title: string;
    detail?: string;
    extensions?: Record<string, unknown>;
    headers?: Record<string, string>;
    cause?: unknown;
  }) {
    super(init.detail ?? init.title, { cause: init.cause });
    this.name = 'HttpProblem';
    this.status = init.status;
    this.type = init.type.includes(':') ? init.type : `${TYPE_BASE}${init.type}`;
    this.title = init.title;
    this.detail = init.detail;
    this.extensions = init.extensions ?? {};
    this.headers = init.headers ?? {};
  }

  toJSON(instance?: string): ProblemDetails {
    return {
      ...this.extensions,
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(instance === undefined ? {} : { instance }),
    };
  }
}

/** The problems every service answers with; service-specific ones are built with `new HttpProblem`. */
export const problems = {
  validation: (errors: FieldError[]) =>
    new HttpProblem({
      status: 400,
      type: 'validation-failed',
      title: 'Request validation failed',
      detail: errors.map((e) => `${e.in}${e.field ? ` ${e.field}` : ''}: ${e.message}`).join('; '),
      extensions: { errors },
    }),
  malformedJson: () =>
    new HttpProblem({ status: 400, type: 'malformed-json', title: 'Malformed JSON body', detail: 'The request body is not valid JSON.' }),
  notFound: (detail: string) => new HttpProblem({ status: 404, type: 'not-found', title: 'Not found', detail }),
  conflict: (detail: string) => new HttpProblem({ status: 409, type: 'conflict', title: 'Conflict', detail }),
  payloadTooLarge: (limit: string) =>
    new HttpProblem({
      status: 413,
      type: 'payload-too-large',
      title: 'Payload too large',
      detail: `The request body exceeds the limit of ${limit}.`,
    }),
  unsupportedMediaType: (expected: string) =>
    new HttpProblem({
      status: 415,
      type: 'unsupported-media-type',
      title: 'Unsupported media type',
      detail: `The request body must be ${expected}.`,
    }),
  dependencyUnavailable: (dependency: string, retryAfterSeconds = 1, cause?: unknown) =>
    new HttpProblem({
      status: 503,
      type: 'dependency-unavailable',
      title: 'Service unavailable',
      detail: `A dependency (${dependency}) is unavailable; retry later.`,
      extensions: { dependency },
      headers: { 'Retry-After': String(retryAfterSeconds) },
      cause,
    }),
  internal: () =>
    new HttpProblem({
      status: 500,
      type: 'about:blank',
      title: 'Internal Server Error',
      detail: 'An unexpected error occurred; it has been logged.',
    }),
};

export function sendProblem(res: Response, problem: HttpProblem, instance?: string): void {
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem.toJSON(instance)));
}

/**
 * Validates one part of a request with a zod schema; a failure becomes a 400 problem listing every bad field.
 * Values are echoed nowhere, so a rejected secret or injection string is not reflected back.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, part: FieldError['in']): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw problems.validation(
    result.error.issues.map((issue) => ({ in: part, field: issue.path.map(String).join('.'), message: issue.message })),
  );
}

/** Rejects a request with a body that is not JSON (415) before the JSON parser sees it. */
export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && req.is(['application/json', 'application/*+json']) === false) {
      next(problems.unsupportedMediaType('application/json'));
      return;
    }
    next();
  };
}

/** Answers requests no route matched. */
export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => {
    next(problems.notFound(`No route for ${req.method} ${req.path}.`));
  };
}

export interface ErrorLogger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

interface BodyParserError {
  type: string;
  status?: number;
  limit?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string';
}

function fromBodyParser(err: BodyParserError): HttpProblem | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return problems.malformedJson();
    case 'entity.too.large':
      return problems.payloadTooLarge(err.limit === undefined ? 'the configured size' : `${err.limit} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return problems.unsupportedMediaType('UTF-8 encoded application/json');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
    case 'parameters.too.many':
      return new HttpProblem({ status: 400, type: 'bad-request', title: 'Bad request', detail: err.type });
    default:
      return undefined;
  }
}

/**
 * A body that does not decode as its Content-Encoding says (gzip, deflate, br bytes that are not) fails in zlib,
 * and body-parser passes that error on marked 400 but with no `type`. Unhandled, it would be a 500.
 */
function isUndecodableBody(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { status, type, errno } = err as Error & { status?: unknown; type?: unknown; errno?: unknown };
  return status === 400 && type === undefined && typeof errno === 'number';
}

/**
 * The router decodes path parameters before any handler runs, and a malformed one (`/products/%FF`, a stray `%`)
 * fails with a URIError that it marks 400; unhandled, it would be a 500. Its message quotes the raw value, which
 * is not echoed.
 */
function isMalformedPathParameter(err: unknown): boolean {
  return err instanceof URIError && (err as { status?: unknown }).status === 400;
}

/**
 * The last middleware: renders every error as problem+json. `classify` maps dependency errors (a refused
 * database connection, say) to problems; anything unknown is a 500 that is logged with its stack.
 */
export function problemErrorHandler(options: {
  logger: ErrorLogger;
  classify?: (err: unknown) => HttpProblem | undefined;
}): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const problem =
      err instanceof HttpProblem
        ? err
        : isMalformedPathParameter(err)
          ? problems.validation([{ in: 'path', field: '', message: 'must be valid percent-encoded UTF-8' }])
          : isUndecodableBody(err)
            ? new HttpProblem({ status: 400, type: 'bad-request', title: 'Bad request', detail: 'The request body does not decode as its Content-Encoding says.' })
            : ((isBodyParserError(err) ? fromBodyParser(err) : undefined) ?? options.classify?.(err) ?? problems.internal());
    if (problem.status >= 500) {
      const cause = err instanceof HttpProblem ? err.cause : err;
      options.logger.error('request failed', {
        status: problem.status,
        problem_type: problem.type,
        err: cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : String(cause),
      });
    }
    sendProblem(res, problem, req.originalUrl.split('?')[0]);
  };
}
