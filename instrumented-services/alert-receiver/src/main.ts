import { createServiceApp, FaultRegistry, HTTP_FAULTS, httpFaultSpec, runService, serve } from '@lookout/http-kit';
import { createLogger } from '@lookout/telemetry';
import { loadConfig } from './config.js';
import { NotificationLog } from './notifications.js';
import { routes } from './routes.js';

runService('alert-receiver', async () => {
  const logger = createLogger();
  const config = loadConfig();
  const faults = new FaultRegistry(httpFaultSpec, HTTP_FAULTS, logger);
  const log = new NotificationLog(config.notificationsKept);
  const { app, lifecycle, management } = createServiceApp({ http: config.http, logger, faults, checks: [], mount: (a) => a.use(routes(logger, log)) });
  await serve(app, { ...config.http, management, logger, lifecycle });
});
