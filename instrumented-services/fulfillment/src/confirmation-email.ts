import { timeDbOperation } from '@lookout/clients';
import type { FaultRegistry } from '@lookout/http-kit';
import { waitOutSlowQueries, type OrderCreatedEvent, type ShopFault } from '@lookout/shop-contracts';
import type { Logger } from '@lookout/telemetry';
import type pg from 'pg';

/**
 * The confirmation e-mail (simulated: a log line), sent at most once per order event. Delivery is at least once
 * (a redelivery after a lost ack, a restart, a DLQ replay), so each send first claims the event's key in
 * `fulfillment_emails`; a key already there means the e-mail went out before, and nothing is sent. Claim and send
 * are not atomic: a crash between them loses that e-mail rather than sending it twice.
 */
export class ConfirmationMailer {
  constructor(
    private readonly pool: pg.Pool,
    private readonly faults: FaultRegistry<ShopFault>,
    private readonly logger: Logger,
  ) {}

  /** Returns whether the e-mail was sent now (false: it had been sent already). */
  async send(key: string, event: OrderCreatedEvent, attempt: number): Promise<boolean> {
    const claimed = await timeDbOperation('fulfillment_emails.claim', async () => {
      await waitOutSlowQueries(this.faults);
      return this.pool.query(
        `INSERT INTO fulfillment_emails (message_id, order_id) VALUES ($1, $2)
         ON CONFLICT (message_id) DO NOTHING`,
        [key, event.orderId],
      );
    });
    if (claimed.rowCount === 0) {
      this.logger.info('order confirmation e-mail already sent, not sent again', { order_id: event.orderId, message_id: key });
      return false;
    }
    this.logger.info('order confirmation e-mail sent', { order_id: event.orderId, to: event.customerEmail, attempt, message_id: key });
    return true;
  }
}

/** The deduplication key of an event: its message id (the outbox sets one per event), else its order. */
export function emailKey(messageId: string | undefined, event: OrderCreatedEvent): string {
  return messageId ?? `order-created:${event.orderId}`;
}
