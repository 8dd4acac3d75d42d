import { envInt, parseEnv } from '@lookout/config';
import { serviceEnv, serviceSettings } from '@lookout/http-kit';
import { z } from 'zod';

/** Every environment variable the service reads; exported for test/unit/env-errors.test.ts, which tries each. */
export const schema = z.object({
  ...serviceEnv(8090),
  /** Notifications kept for GET /notifications; older ones are only in the logs. */
  NOTIFICATIONS_KEPT: envInt(1_000, 10, 100_000),
});

/** The service's settings from the environment; a bad value fails start-up with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(schema, env);
  return { http: serviceSettings(e), notificationsKept: e.NOTIFICATIONS_KEPT };
}
