import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '@lookout/telemetry';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { HttpProblem, validate } from './problem.js';

/** The faults every HTTP service can apply to its routes; a service adds its own (see @lookout/shop-contracts). */
export const latencyFault = z.strictObject({
  name: z.literal('latency'),
  ms: z.number().int().min(1).max(30_000),
  ratio: z.number().min(0).max(1).default(1),
});
export const errorsFault = z.strictObject({
  name: z.literal('errors'),
  ratio: z.number().min(0).max(1),
  status: z.number().int().min(500).max(599).default(500),
});

/** The faults of a service that injects only the HTTP ones. */
export const httpFaultSpec = z.discriminatedUnion('name', [latencyFault, errorsFault]);
export type HttpFault = z.infer<typeof httpFaultSpec>;
export const HTTP_FAULTS: ReadonlySet<HttpFault['name']> = new Set(['latency', 'errors']);

/** What any fault looks like: a name and its parameters. */
export interface NamedFault {
  readonly name: string;
}

const activation = z.strictObject({
  /** Switches the fault off by itself after this long, so a forgotten drill cannot outlive its purpose. */
  durationSeconds: z.number().int().min(1).max(3_600).default(300),
});

interface ActiveFault<S> {
  spec: S;
  until: number;
}

/**
 * The faults a service is told to inject, for alert drills and failure tests. `S` is the union of the fault specs
 * the service knows, `schema` validates one; `supported` lists the names this service implements.
 */
export class FaultRegistry<S extends NamedFault = NamedFault> {
  private readonly active = new Map<string, ActiveFault<S>>();

  constructor(
    readonly schema: z.ZodType<S>,
    readonly supported: ReadonlySet<S['name']>,
    private readonly logger: Logger,
  ) {}

  set(spec: S, durationSeconds: number): void {
    this.active.set(spec.name, { spec, until: Date.now() + durationSeconds * 1000 });
    this.logger.warn('fault injected', { fault: spec.name, spec, duration_s: durationSeconds });
  }

  clear(name: string): boolean {
    const had = this.active.delete(name);
    if (had) this.logger.warn('fault cleared', { fault: name });
    return had;
  }

  private lookup(name: string): S | undefined {
    const fault = this.active.get(name);
    if (fault === undefined) return undefined;
    if (Date.now() > fault.until) {
      this.clear(name);
      return undefined;
    }
    return fault.spec;
  }

  /** The fault's parameters while it is on, undefined otherwise. */
  get<N extends S['name']>(name: N): Extract<S, { name: N }> | undefined {
    return this.lookup(name) as Extract<S, { name: N }> | undefined;
  }

  list(): { spec: S; expiresAt: string }[] {
    return [...this.active.keys()]
      .map((name) => this.lookup(name) && this.active.get(name))
      .filter((f): f is ActiveFault<S> => f !== undefined)
      .map((f) => ({ spec: f.spec, expiresAt: new Date(f.until).toISOString() }));
  }

  /** Middleware applying `latency` and `errors` to the routes after it. */
  httpFaults(): RequestHandler {
    return (_req, _res, next) => {
      const latency = this.lookup('latency') as z.infer<typeof latencyFault> | undefined;
      const errors = this.lookup('errors') as z.infer<typeof errorsFault> | undefined;
      const fail = errors !== undefined && Math.random() < errors.ratio;
      const proceed = () => {
        if (fail) {
          next(new HttpProblem({ status: errors.status, type: 'injected-fault', title: 'Injected fault', detail: 'errors fault is on' }));
        } else next();
      };
      if (latency !== undefined && Math.random() < latency.ratio) setTimeout(proceed, latency.ms);
      else proceed();
    };
  }
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(header?.startsWith('Bearer ') === true ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/**
 * `GET/POST /admin/faults`, `DELETE /admin/faults/:name`, behind `Authorization: Bearer <ADMIN_TOKEN>`. With no
 * token configured the endpoints answer 404, so a service is never left open by omission.
 */
export function faultAdminRoutes<S extends NamedFault>(registry: FaultRegistry<S>, adminToken: string | undefined): Router {
  const router = Router();
  router.use('/admin', (req, _res, next) => {
    if (adminToken === undefined) {
      next(new HttpProblem({ status: 404, type: 'not-found', title: 'Not found', detail: 'Admin endpoints are disabled.' }));
    } else if (!bearerMatches(req.headers.authorization, adminToken)) {
      next(
        new HttpProblem({
          status: 401,
          type: 'unauthorized',
          title: 'Unauthorized',
          detail: 'A valid admin bearer token is required.',
          headers: { 'WWW-Authenticate': 'Bearer realm="admin"' },
        }),
      );
    } else next();
  });
  router.get('/admin/faults', (_req, res) => {
    res.json({ supported: [...registry.supported], active: registry.list() });
  });
  router.post('/admin/faults', (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const { durationSeconds, ...rest } = body;
    const spec = validate(registry.schema, rest, 'body');
    const { durationSeconds: seconds } = validate(activation, { durationSeconds }, 'body');
    if (!registry.supported.has(spec.name)) {
      throw new HttpProblem({
        status: 422,
        type: 'unsupported-fault',
        title: 'Unsupported fault',
        detail: `This service does not implement ${spec.name}; it supports ${[...registry.supported].join(', ')}.`,
      });
    }
    registry.set(spec, seconds);
    res.status(201).json({ active: registry.list() });
  });
  router.delete('/admin/faults/:name', (req, res) => {
    const { name } = validate(z.object({ name: z.string().regex(/^[a-z_]{1,64}$/, 'must be a fault name') }), req.params, 'path');
    if (!(registry.supported as ReadonlySet<string>).has(name)) throw new HttpProblem({ status: 404, type: 'not-found', title: 'Not found', detail: `No fault named ${name} here.` });
    registry.clear(name);
    res.status(204).end();
  });
  return router;
}
