import { envInt, envPort } from '@lookout/config';
import { z } from 'zod';

const ACCESS_LOG_LEVELS = ['off', 'error', 'warn', 'info', 'http', 'verbose', 'debug'] as const;
export type AccessLogLevel = (typeof ACCESS_LOG_LEVELS)[number];

/** Settings every HTTP service has, to spread into its own environment schema. */
export function serviceEnv(defaultPort: number) {
  return {
    PORT: envPort(defaultPort),
    HOST: z.string().default('0.0.0.0'),
    SHUTDOWN_TIMEOUT_MS: envInt(10_000, 1_000, 120_000),
    BODY_LIMIT_BYTES: envInt(16_384, 1_024, 10_485_760),
    /** Bearer token for /admin (fault injection); the endpoints are off when it is unset. */
    ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Level of the one access-log line per request; `off` writes none. Failed requests (5xx) log at warn or above. */
    ACCESS_LOG_LEVEL: z.enum(ACCESS_LOG_LEVELS).default('info'),
    /** Share of traces whose requests are access-logged (decided from the trace id, so alike in every service). */
    ACCESS_LOG_SAMPLE_RATIO: z
      .string()
      .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'expected a ratio from 0 to 1')
      .transform(Number)
      .default(1),
  };
}

export type ServiceSettings = ReturnType<typeof serviceSettings>;

/** The settings of `serviceEnv`, named for `serve()` and `createServiceApp()`. */
export function serviceSettings(env: {
  PORT: number;
  HOST: string;
  SHUTDOWN_TIMEOUT_MS: number;
  BODY_LIMIT_BYTES: number;
  ADMIN_TOKEN?: string | undefined;
  ACCESS_LOG_LEVEL: AccessLogLevel;
  ACCESS_LOG_SAMPLE_RATIO: number;
}) {
  return {
    port: env.PORT,
    host: env.HOST,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    adminToken: env.ADMIN_TOKEN,
    accessLog: { level: env.ACCESS_LOG_LEVEL, sampleRatio: env.ACCESS_LOG_SAMPLE_RATIO },
  };
}
