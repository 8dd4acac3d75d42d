import { redisEnv } from '@lookout/clients';
import { ConfigError, envInt, envUrl, parseEnv, type ConfigIssue } from '@lookout/config';
import { serviceEnv, serviceSettings } from '@lookout/http-kit';
import { z } from 'zod';

export const SCOPES = ['read', 'write'] as const;
export type Scope = (typeof SCOPES)[number];

const budget = z.strictObject({
  requests: z.number().int().min(1).max(10_000_000),
  windowSeconds: z.number().int().min(1).max(86_400),
});

const apiKey = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  /** SHA-256 of the key, hex: keys are never stored in clear. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256'),
  scopes: z.array(z.enum(SCOPES)).min(1),
  /** This client's own budget; RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW_SECONDS when absent. */
  rateLimit: budget.optional(),
});
export type ApiKey = z.infer<typeof apiKey>;

/**
 * The published demo credentials (README): `lookout-demo-read-key` (read), `lookout-demo-write-key` (read, write)
 * with the default budget, and `lookout-demo-loadgen-key` for the load generator, a client of its own with a budget
 * for steady demo traffic. Only with LOOKOUT_DEMO=true; a deployment sets API_KEYS (or JWT_SECRET).
 */
export const DEMO_KEYS: readonly ApiKey[] = [
  { id: 'demo-reader', sha256: 'a164d28e6b0afdb4c3dbae60f12aeb2fcef495dad734e732201ab6fddf271184', scopes: ['read'] },
  { id: 'demo-writer', sha256: 'd4f3256686ece9f604c2c21196beae857831de2d81e7f0311839f2cff73becbe', scopes: ['read', 'write'] },
  {
    id: 'demo-loadgen',
    sha256: 'c3120a31102126b57dc544e3f77fa3b19ef23cc6d222d08a16b4607e5f79a242',
    scopes: ['read', 'write'],
    rateLimit: { requests: 60_000, windowSeconds: 60 },
  },
];

export const schema = z.object({
  ...serviceEnv(8080),
  ...redisEnv,
  CATALOG_URL: envUrl('http://127.0.0.1:8081', ['http:', 'https:']),
  ORDERS_URL: envUrl('http://127.0.0.1:8082', ['http:', 'https:']),
  UPSTREAM_TIMEOUT_MS: envInt(2_000, 50, 60_000),
  UPSTREAM_RETRIES: envInt(2, 0, 5),
  /** JSON array of {id, sha256, scopes, rateLimit?}; required outside demo mode unless JWT_SECRET is set. */
  API_KEYS: z
    .string()
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON array of {id, sha256, scopes, rateLimit?}' });
        return z.NEVER;
      }
    })
    .pipe(z.array(apiKey))
    .optional(),
  /** HS256 secret for JWTs; JWT authentication is off when unset. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Required with JWT_SECRET: a token from another issuer or for another audience is refused. */
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  RATE_LIMIT_REQUESTS: envInt(600, 1, 10_000_000),
  RATE_LIMIT_WINDOW_SECONDS: envInt(60, 1, 86_400),
  /**
   * Requests per window from one client address, counted before authentication: bounds floods of bad credentials
   * and unauthenticated calls (/readyz, /admin included). The address is the TCP peer's (no proxy headers trusted).
   */
  RATE_LIMIT_IP_REQUESTS: envInt(6_000, 1, 10_000_000),
});

/** Issues that involve several settings at once, all reported together. */
function crossIssues(e: z.infer<typeof schema>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const demoHashes = new Set(DEMO_KEYS.map((k) => k.sha256));
  if (!e.LOOKOUT_DEMO) {
    if (e.API_KEYS === undefined && e.JWT_SECRET === undefined) {
      issues.push({ setting: 'API_KEYS', message: 'required (a JSON array of {id, sha256, scopes}) unless JWT_SECRET is set; the published demo keys need LOOKOUT_DEMO=true' });
    }
    const demo = (e.API_KEYS ?? []).filter((k) => demoHashes.has(k.sha256)).map((k) => k.id);
    if (demo.length > 0) issues.push({ setting: 'API_KEYS', message: `holds published demo keys (${demo.join(', ')}), accepted only with LOOKOUT_DEMO=true` });
  }
  if (e.JWT_SECRET !== undefined) {
    if (e.JWT_ISSUER === undefined) issues.push({ setting: 'JWT_ISSUER', message: 'required with JWT_SECRET: the issuer whose tokens are accepted' });
    if (e.JWT_AUDIENCE === undefined) issues.push({ setting: 'JWT_AUDIENCE', message: 'required with JWT_SECRET: the audience tokens must name (this API)' });
  }
  const ids = (e.API_KEYS ?? []).map((k) => k.id);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length > 0) issues.push({ setting: 'API_KEYS', message: `client ids must be unique (twice: ${[...new Set(twice)].join(', ')})` });
  return issues;
}

export type GatewayConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(schema, env);
  const issues = crossIssues(e);
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    http: serviceSettings(e),
    redis: { url: e.REDIS_URL, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS },
    upstreams: { catalog: e.CATALOG_URL, orders: e.ORDERS_URL },
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    upstreamRetries: e.UPSTREAM_RETRIES,
    auth: {
      apiKeys: e.API_KEYS ?? (e.LOOKOUT_DEMO ? DEMO_KEYS : []),
      jwt:
        e.JWT_SECRET === undefined || e.JWT_ISSUER === undefined || e.JWT_AUDIENCE === undefined
          ? undefined
          : { secret: e.JWT_SECRET, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    },
    rateLimit: {
      client: { requests: e.RATE_LIMIT_REQUESTS, windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS },
      address: { requests: e.RATE_LIMIT_IP_REQUESTS, windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS },
    },
  };
}
