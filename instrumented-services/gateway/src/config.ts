import { redisEnv } from '@lookout/clients';
import { envInt, envUrl, parseEnv } from '@lookout/config';
import { serviceEnv, serviceSettings } from '@lookout/http-kit';
import { z } from 'zod';

export const SCOPES = ['read', 'write'] as const;
export type Scope = (typeof SCOPES)[number];

const apiKey = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  /** SHA-256 of the key, hex: keys are never stored in clear. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256'),
  scopes: z.array(z.enum(SCOPES)).min(1),
});

// Demo credentials, documented in the README: `lookout-demo-read-key` (read) and `lookout-demo-write-key`
// (read, write). Production deployments set API_KEYS.
const DEMO_KEYS = JSON.stringify([
  { id: 'demo-reader', sha256: 'a164d28e6b0afdb4c3dbae60f12aeb2fcef495dad734e732201ab6fddf271184', scopes: ['read'] },
  { id: 'demo-writer', sha256: 'd4f3256686ece9f604c2c21196beae857831de2d81e7f0311839f2cff73becbe', scopes: ['read', 'write'] },
]);

const schema = z.object({
  ...serviceEnv(8080),
  ...redisEnv,
  CATALOG_URL: envUrl('http://127.0.0.1:8081', ['http:', 'https:']),
  ORDERS_URL: envUrl('http://127.0.0.1:8082', ['http:', 'https:']),
  UPSTREAM_TIMEOUT_MS: envInt(2_000, 50, 60_000),
  UPSTREAM_RETRIES: envInt(2, 0, 5),
  API_KEYS: z
    .string()
    .default(DEMO_KEYS)
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON array of {id, sha256, scopes}' });
        return z.NEVER;
      }
    })
    .pipe(z.array(apiKey)),
  /** HS256 secret for JWTs; JWT authentication is off when unset. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  RATE_LIMIT_REQUESTS: envInt(600, 1, 10_000_000),
  RATE_LIMIT_WINDOW_SECONDS: envInt(60, 1, 86_400),
});

export type GatewayConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(schema, env);
  return {
    http: serviceSettings(e),
    redis: { url: e.REDIS_URL, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS },
    upstreams: { catalog: e.CATALOG_URL, orders: e.ORDERS_URL },
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    upstreamRetries: e.UPSTREAM_RETRIES,
    auth: {
      apiKeys: e.API_KEYS,
      jwt: e.JWT_SECRET === undefined ? undefined : { secret: e.JWT_SECRET, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    },
    rateLimit: { requests: e.RATE_LIMIT_REQUESTS, windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS },
  };
}
