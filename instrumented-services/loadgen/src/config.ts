import { envBool, envInt, envUrl, parseEnv } from '@lookout/config';
import { z } from 'zod';

/** The load generator's environment: defaults for what its command line does not say. */
export const schema = z.object({
  /** Where `run` sends traffic (`--base-url` wins). */
  LOADGEN_BASE_URL: envUrl('http://127.0.0.1:8080', ['http:', 'https:']),
  /** The client the traffic is sent as (`--api-key` wins): in demo mode the load generator's own demo key. */
  LOADGEN_API_KEY: z.string().min(1).default('lookout-demo-loadgen-key'),
  /** Targets other than loopback addresses are refused unless this is true (the compose network, say). */
  LOADGEN_ALLOW_REMOTE: envBool(false),
  /** The services' admin token, for `drill` (`--admin-token` wins). */
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Seconds between `run`'s progress lines when stderr is not a terminal (a log file, a container): a line a second
   * there is noise. On a terminal one line is rewritten in place every second whatever this says.
   */
  LOADGEN_PROGRESS_SECONDS: envInt(10, 1, 3600),
});

export type LoadgenConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(schema, env);
  return {
    baseUrl: e.LOADGEN_BASE_URL,
    apiKey: e.LOADGEN_API_KEY,
    allowRemote: e.LOADGEN_ALLOW_REMOTE,
    adminToken: e.ADMIN_TOKEN,
    progressSeconds: e.LOADGEN_PROGRESS_SECONDS,
  };
}
