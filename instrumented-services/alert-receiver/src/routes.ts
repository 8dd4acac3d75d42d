import { validate } from '@lookout/http-kit';
import type { Logger } from '@lookout/telemetry';
import { Router } from 'express';
import { z } from 'zod';
import { webhookPayload, type NotificationLog } from './notifications.js';

const listQuery = z.object({
  alertname: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an alert name').optional(),
  status: z.enum(['firing', 'resolved']).optional(),
});

/**
 * `POST /notify/:receiver`: Alertmanager's webhook; each alert becomes one log line `alert notification` (so
 * notifications are searchable in Loki) and one entry of the bounded log. `GET /notifications`: the recent ones.
 */
export function routes(logger: Logger, log: NotificationLog): Router {
  const router = Router();
  router.post('/notify/:receiver', (req, res) => {
    const { receiver } = validate(z.object({ receiver: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/) }), req.params, 'path');
    const payload = validate(webhookPayload, req.body, 'body');
    for (const alert of payload.alerts) {
      const notification = {
        receivedAt: new Date().toISOString(),
        receiver,
        status: alert.status,
        alertname: alert.labels.alertname ?? '',
        severity: alert.labels.severity ?? '',
        service: alert.labels.service ?? '',
        labels: alert.labels,
        summary: alert.annotations.summary ?? '',
        startsAt: alert.startsAt,
      };
      log.add(notification);
      logger.log(alert.status === 'firing' && notification.severity === 'page' ? 'warn' : 'info', 'alert notification', {
        receiver,
        alert_status: notification.status,
        alertname: notification.alertname,
        severity: notification.severity,
        alert_service: notification.service,
        summary: notification.summary,
        fingerprint: alert.fingerprint,
        starts_at: alert.startsAt,
      });
    }
    res.status(202).json({ received: payload.alerts.length });
  });
  router.get('/notifications', (req, res) => {
    const filter = validate(listQuery, req.query, 'query');
    res.json({ notifications: log.list(filter) });
  });
  return router;
}
