import { ConfigError, envBool, envInt, envPort } from '@lookout/config';
import { z } from 'zod';

const ACCESS_LOG_LEVELS = ['off', 'error', 'warn', 'info', 'http', 'verbose', 'debug'] as const;
export type AccessLogLevel = (typeof ACCESS_LOG_LEVELS)[number];

/**
 * An address to listen on: a host name or an IP address. Checked here so that a typo is a start-up error naming the
 * variable, not the resolver's "getaddrinfo ENOTFOUND" from listen().
 */
function envHost(defaultValue: string) {
  return z
    .string()
    .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/, 'expected a host name or an IP address')
    .default(defaultValue);
}

/** Settings every HTTP service has, to spread into its own environment schema. */
export function serviceEnv(defaultPort: number) {
  return {
    PORT: envPort(defaultPort),
    HOST: envHost('0.0.0.0'),
    /**
     * When set, /metrics, /readyz and /admin answer only on this port (and /healthz on both), so that an edge
     * service's public port exposes its API alone. Unset: everything on PORT, for services nothing outside reaches.
     */
    MANAGEMENT_PORT: z
      .string()
      .regex(/^\d+$/, 'expected a TCP port from 0 to 65535')
      .transform(Number)
      .pipe(z.number().int().max(65535, 'expected a TCP port from 0 to 65535'))
      .optional(),
    /** Address of the management listener: loopback unless the scrapers reach it over a network (compose). */
    MANAGEMENT_HOST: envHost('127.0.0.1'),
    SHUTDOWN_TIMEOUT_MS: envInt(10_000, 1_000, 120_000),
    BODY_LIMIT_BYTES: envInt(16_384, 1_024, 10_485_760),
    /**
     * The published demo credentials (API keys, the admin token) work only when this is true; without it a service
     * given one refuses to start. For local demos (both stacks' quick starts), never for a deployment.
     */
    LOOKOUT_DEMO: envBool(false),
    /** Bearer token for /admin (fault injection); the endpoints are off when it is unset (in demo mode: DEMO_ADMIN_TOKEN). */
    ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /**
     * On shutdown, how long /readyz answers 503 while the listener still serves, so that a load balancer polling
     * readiness stops routing here before connections are refused. 0 where nothing routes by readiness.
     */
    READINESS_DRAIN_MS: envInt(0, 0, 60_000),
    /** Level of the one access-log line per request; `off` writes none. Failed requests (5xx) log at warn or above. */
    ACCESS_LOG_LEVEL: z.enum(ACCESS_LOG_LEVELS).default('info'),
    /**
     * `false` drops the per-request RED metric and access log (the requestTelemetry middleware; /metrics still
     * answers). Only for measuring what they cost (`npm run bench:overhead`): a deployment keeps them.
     */
    REQUEST_TELEMETRY: envBool(true),
    /**
     * The longest a request may take here: the budget of a request that arrives without `request-timeout-ms`, and
     * the cap on one that asks for more (the header comes from inside, but no caller gets hours). See the budget
     * chain in the README of instrumented-services.
     */
    REQUEST_TIMEOUT_MS: envInt(10_000, 100, 120_000),
    /** Share of traces whose requests are access-logged (decided from the trace id, so alike in every service). */
    ACCESS_LOG_SAMPLE_RATIO: z
      .string()
      .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'expected a ratio from 0 to 1')
      .transform(Number)
      .default(1),
  };
}

export type ServiceSettings = ReturnType<typeof serviceSettings>;

/** The admin token of demo mode, published in the README: accepted only with LOOKOUT_DEMO=true. */
export const DEMO_ADMIN_TOKEN = 'lookout-local-admin-token';

/** The settings of `serviceEnv`, named for `serve()` and `createServiceApp()`. Throws ConfigError for a demo secret outside demo mode. */
export function serviceSettings(env: {
  PORT: number;
  HOST: string;
  MANAGEMENT_PORT?: number | undefined;
  MANAGEMENT_HOST?: string | undefined;
  SHUTDOWN_TIMEOUT_MS: number;
  BODY_LIMIT_BYTES: number;
  LOOKOUT_DEMO: boolean;
  ADMIN_TOKEN?: string | undefined;
  READINESS_DRAIN_MS: number;
  ACCESS_LOG_LEVEL: AccessLogLevel;
  ACCESS_LOG_SAMPLE_RATIO: number;
  /** Optional for callers built before it existed; serviceEnv always sets it. */
  REQUEST_TELEMETRY?: boolean | undefined;
  /** Optional for callers built before it existed; serviceEnv always sets it. */
  REQUEST_TIMEOUT_MS?: number | undefined;
}) {
  if (!env.LOOKOUT_DEMO && env.ADMIN_TOKEN === DEMO_ADMIN_TOKEN) {
    throw new ConfigError([
      { setting: 'ADMIN_TOKEN', message: 'the published demo token is accepted only with LOOKOUT_DEMO=true; set a secret of your own (e.g. `openssl rand -hex 24`) or leave it unset to turn /admin off' },
    ]);
  }
  if (env.READINESS_DRAIN_MS >= env.SHUTDOWN_TIMEOUT_MS / 2) {
    throw new ConfigError([
      { setting: 'READINESS_DRAIN_MS', message: `must be less than half of SHUTDOWN_TIMEOUT_MS (${env.SHUTDOWN_TIMEOUT_MS}), which also has to cover in-flight requests and flushing (got "${env.READINESS_DRAIN_MS}")` },
    ]);
  }
  // Port 0 twice means two ephemeral ports (tests); the same fixed port twice cannot be bound.
  if (env.MANAGEMENT_PORT !== undefined && env.MANAGEMENT_PORT !== 0 && env.MANAGEMENT_PORT === env.PORT) {
    throw new ConfigError([{ setting: 'MANAGEMENT_PORT', message: `must differ from PORT (${env.PORT}), or be unset to serve everything on PORT` }]);
  }
  return {
    port: env.PORT,
    host: env.HOST,
    /** The management listener (/metrics, /readyz, /admin), or undefined when PORT serves them too. */
    managementListener: env.MANAGEMENT_PORT === undefined ? undefined : { port: env.MANAGEMENT_PORT, host: env.MANAGEMENT_HOST ?? '127.0.0.1' },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    readinessDrainMs: env.READINESS_DRAIN_MS,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    demo: env.LOOKOUT_DEMO,
    adminToken: env.ADMIN_TOKEN ?? (env.LOOKOUT_DEMO ? DEMO_ADMIN_TOKEN : undefined),
    accessLog: { level: env.ACCESS_LOG_LEVEL, sampleRatio: env.ACCESS_LOG_SAMPLE_RATIO },
    /** Whether each request is recorded (RED metric, access log); off only to measure the cost of doing so. */
    requestTelemetry: env.REQUEST_TELEMETRY ?? true,
    /** A request's budget without a `request-timeout-ms` header, and the most one can ask for. */
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS ?? 10_000,
  };
}
