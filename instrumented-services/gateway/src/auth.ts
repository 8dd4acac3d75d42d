import { createHash } from 'node:crypto';
import { HttpProblem } from '@lookout/http-kit';
import type { RequestHandler, Response } from 'express';
import { jwtVerify } from 'jose';
import { SCOPES, type GatewayConfig, type Scope } from './config.js';

export interface Principal {
  /** Stable client identity: the API key id or the JWT subject. Rate limits and idempotency keys are per client. */
  id: string;
  scopes: ReadonlySet<Scope>;
  method: 'api-key' | 'jwt';
  /** The client's own rate-limit budget, when its key names one. */
  budget?: { requests: number; windowSeconds: number };
}

// A JWT subject becomes a rate-limit and ownership key: printable, bounded, no separators that could collide.
const SUBJECT = /^[A-Za-z0-9._@|+-]{1,128}$/;

const CHALLENGE = 'Bearer realm="lookout", ApiKey realm="lookout"';

function unauthorized(detail: string): HttpProblem {
  return new HttpProblem({ status: 401, type: 'unauthorized', title: 'Unauthorized', detail, headers: { 'WWW-Authenticate': CHALLENGE } });
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (principal === undefined) throw new Error('authenticate() must run before this handler');
  return principal;
}

/**
 * Authenticates with `X-API-Key: <key>` (keys are looked up by their SHA-256, never stored in clear) or
 * `Authorization: Bearer <JWT>` (HS256; exp, sub, iss and aud required and checked; scopes in `scope`).
 */
export function authenticate(auth: GatewayConfig['auth']): RequestHandler {
  const keys = new Map(auth.apiKeys.map((k) => [k.sha256, k]));
  const secret = auth.jwt === undefined ? undefined : new TextEncoder().encode(auth.jwt.secret);
  return async (req, res, next) => {
    const apiKey = req.headers['x-api-key'];
    const authorization = req.headers.authorization;
    if (typeof apiKey === 'string' && apiKey !== '') {
      const found = keys.get(createHash('sha256').update(apiKey).digest('hex'));
      if (found === undefined) throw unauthorized('The API key is not valid.');
      res.locals.principal = {
        id: found.id,
        scopes: new Set(found.scopes),
        method: 'api-key',
        ...(found.rateLimit && { budget: found.rateLimit }),
      } satisfies Principal;
      next();
      return;
    }
    if (authorization?.startsWith('Bearer ') === true) {
      if (secret === undefined || auth.jwt === undefined) throw unauthorized('Bearer tokens are not accepted here; use an API key.');
      let payload;
      try {
        ({ payload } = await jwtVerify(authorization.slice(7).trim(), secret, {
          algorithms: ['HS256'],
          requiredClaims: ['exp', 'sub', 'iss', 'aud'],
          issuer: auth.jwt.issuer,
          audience: auth.jwt.audience,
        }));
      } catch (err) {
        throw unauthorized(`The bearer token is not valid (${err instanceof Error ? err.message : 'rejected'}).`);
      }
      if (typeof payload.sub !== 'string' || !SUBJECT.test(payload.sub)) {
        throw unauthorized('The bearer token is not valid ("sub" must be 1-128 letters, digits or ._@|+-).');
      }
      const granted = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
      const scopes = new Set(SCOPES.filter((s) => granted.includes(s)));
      res.locals.principal = { id: `jwt:${payload.sub}`, scopes, method: 'jwt' } satisfies Principal;
      next();
      return;
    }
    throw unauthorized('Credentials are required: an X-API-Key header or a bearer JWT.');
  };
}

/** 403 unless the authenticated client holds `scope`. */
export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next) => {
    if (!principalOf(res).scopes.has(scope)) {
      throw new HttpProblem({
        status: 403,
        type: 'insufficient-scope',
        title: 'Forbidden',
        detail: `This call needs the "${scope}" scope.`,
        extensions: { requiredScope: scope },
      });
    }
    next();
  };
}
