import { timeDbOperation } from '@lookout/clients';
import type { FaultRegistry } from '@lookout/http-kit';
import { assertTopology, orderCreatedEvent, topology, waitOutSlowQueries, type ShopFault } from '@lookout/shop-contracts';
import { createGauge, exemplarFor, metrics, observeWithExemplar, OTHER, type Logger } from '@lookout/telemetry';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type pg from 'pg';
import { ZodError } from 'zod';
import { Batcher } from './batcher.js';
import type { FulfillmentConfig } from './config.js';
import { confirmationDelay, consumed, consumedFrom, consumerLag, deadLettered, ordersConfirmed, processingDuration, retries } from './metrics.js';

/** error.type of a failed attempt: a message that is not a valid order event, or anything else. */
function errorType(err: unknown): string {
  return err instanceof ZodError || err instanceof SyntaxError ? 'invalid_message' : OTHER;
}

const ATTEMPT_HEADER = 'x-lookout-attempt';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Consumes order-created events with bounded prefetch: simulates payment and the confirmation e-mail, then marks
 * the order confirmed through a batched UPDATE and acknowledges. A failed attempt is republished to the retry queue
 * with an exponential per-message TTL; after `maxAttempts` it goes to the dead-letter queue.
 */
export class OrderConsumer {
  private readonly channel: ChannelWrapper;
  private readonly batcher: Batcher<number>;

  constructor(
    private readonly pool: pg.Pool,
    connection: AmqpConnectionManager,
    private readonly config: FulfillmentConfig,
    private readonly faults: FaultRegistry<ShopFault>,
    private readonly logger: Logger,
  ) {
    this.batcher = new Batcher((ids) => this.confirm(ids), config.batch.size, config.batch.intervalMs);
    this.channel = connection.createChannel({
      name: 'fulfillment-consumer',
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
        await assertTopology(channel);
        await channel.prefetch(config.consumer.prefetch);
        await channel.consume(topology.queue, (msg) => {
          if (msg !== null) void this.handle(msg);
        });
      },
    });
    const channel = this.channel;
    createGauge(metrics.messagingQueueMessages, async (gauge) => {
      gauge.reset();
      for (const queue of [topology.queue, topology.retryQueue, topology.deadLetterQueue]) {
        try {
          const info = await channel.checkQueue(queue);
          gauge.set({ messaging_destination_name: queue }, info.messageCount);
        } catch {
          // broker unreachable: no sample rather than a wrong one
        }
      }
    });
  }

  private async confirm(orderIds: number[]): Promise<void> {
    // Idempotent: a redelivered event finds its order already confirmed and changes nothing.
    const result = await timeDbOperation('orders.confirm_batch', () =>
      waitOutSlowQueries(this.faults).then(() =>
        this.pool.query(
          `UPDATE orders SET status = 'confirmed', updated_at = now()
            WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
          [orderIds],
        ),
      ),
    );
    ordersConfirmed.inc(result.rowCount ?? 0);
  }

  private async handle(msg: ConsumeMessage): Promise<void> {
    const started = performance.now();
    const queue = topology.queue;
    if (typeof msg.properties.timestamp === 'number') {
      consumerLag.set({ messaging_destination_name: queue }, Math.max(0, Date.now() / 1000 - msg.properties.timestamp));
    }
    while (this.faults.get('consumer_paused') !== undefined) await sleep(200);
    const attempt = Number((msg.properties.headers ?? {})[ATTEMPT_HEADER] ?? 1);
    let error_type = '';
    try {
      const event = orderCreatedEvent.parse(JSON.parse(msg.content.toString('utf8')));
      await this.simulatePayment();
      this.logger.info('order confirmation e-mail sent', { order_id: event.orderId, to: event.customerEmail, attempt });
      await this.batcher.add(event.orderId);
      this.channel.ack(msg);
      // A redelivered event is observed again (at least once): rare, and on the side of reporting staleness.
      const delaySeconds = Math.max(0, (Date.now() - Date.parse(event.createdAt)) / 1000);
      if (Number.isFinite(delaySeconds)) observeWithExemplar(confirmationDelay, {}, delaySeconds, exemplarFor());
    } catch (err) {
      error_type = errorType(err);
      await this.giveBack(msg, attempt, attempt >= this.config.consumer.maxAttempts ? 'dead_lettered' : 'retried', err);
    }
    consumed.inc({ ...consumedFrom, error_type });
    observeWithExemplar(
      processingDuration,
      { ...consumedFrom, error_type },
      (performance.now() - started) / 1000,
      exemplarFor(),
    );
  }

  private async giveBack(msg: ConsumeMessage, attempt: number, outcome: 'retried' | 'dead_lettered', err: unknown): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    const headers = { ...(msg.properties.headers ?? {}), [ATTEMPT_HEADER]: attempt + 1, 'x-lookout-last-error': reason.slice(0, 500) };
    const options = {
      persistent: true,
      contentType: msg.properties.contentType as string | undefined,
      messageId: msg.properties.messageId as string | undefined,
      timestamp: msg.properties.timestamp as number | undefined,
      headers,
    };
    try {
      if (outcome === 'retried') {
        const delay = this.config.consumer.retryBaseDelayMs * 2 ** (attempt - 1);
        await this.channel.sendToQueue(topology.retryQueue, msg.content, { ...options, expiration: String(delay) });
        retries.inc({ messaging_destination_name: topology.queue });
        this.logger.warn('order event failed, retrying', { attempt, delay_ms: delay, err: reason, message_id: options.messageId });
      } else {
        await this.channel.sendToQueue(topology.deadLetterQueue, msg.content, options);
        deadLettered.inc({ messaging_destination_name: topology.queue });
        this.logger.error('order event dead-lettered', { attempts: attempt, err: reason, message_id: options.messageId });
      }
      this.channel.ack(msg);
    } catch (publishErr) {
      // Could not park it: leave it to the broker to redeliver rather than lose it.
      this.logger.warn('could not requeue failed message; broker will redeliver', { err: String(publishErr) });
      this.channel.nack(msg, false, true);
    }
  }

  private async simulatePayment(): Promise<void> {
    const { minMs, maxMs } = this.config.payment;
    await sleep(minMs + Math.random() * (maxMs - minMs));
  }

  async stop(): Promise<void> {
    await this.batcher.flush();
    await this.channel.close();
  }
}
