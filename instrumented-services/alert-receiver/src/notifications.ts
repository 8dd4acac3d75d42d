import { z } from 'zod';

/** One alert of an Alertmanager webhook notification (version 4 of its payload). */
const webhookAlert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  fingerprint: z.string().max(64).optional(),
});

/** The body Alertmanager POSTs to a webhook receiver. */
export const webhookPayload = z.object({
  version: z.literal('4'),
  receiver: z.string().max(200),
  status: z.enum(['firing', 'resolved']),
  groupKey: z.string().max(2_000),
  alerts: z.array(webhookAlert).max(1_000),
});

export type WebhookPayload = z.infer<typeof webhookPayload>;

/** One alert as received, with the receiver and time it arrived at. */
export interface Notification {
  receivedAt: string;
  receiver: string;
  status: 'firing' | 'resolved';
  alertname: string;
  severity: string;
  service: string;
  labels: Record<string, string>;
  summary: string;
  /** When Prometheus says the alert started firing. */
  startsAt: string;
}

/** The most recent notifications, bounded so that a long-running stack does not grow. */
export class NotificationLog {
  private readonly items: Notification[] = [];

  constructor(private readonly capacity: number) {}

  add(n: Notification): void {
    this.items.push(n);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  /** Newest last; filtered by alert name and status when given. */
  list(filter: { alertname?: string | undefined; status?: string | undefined }): Notification[] {
    return this.items.filter(
      (n) => (filter.alertname === undefined || n.alertname === filter.alertname) && (filter.status === undefined || n.status === filter.status),
    );
  }
}
