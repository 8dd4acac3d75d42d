import { timeDbOperation } from '@lookout/clients';
import type { FaultRegistry } from '@lookout/http-kit';
import { assertTopology, orderCreatedEvent, topology, waitOutSlowQueries, type ShopFault } from '@lookout/shop-contracts';
import { createGauge, exemplarFor, metrics, observeWithExemplar, OTHER, type Logger } from '@lookout/telemetry';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type pg from 'pg';
import { Batcher } from './batcher.js';
import type { FulfillmentConfig } from './config.js';
import { ConfirmationMailer, emailKey } from './confirmation-email.js';
import { backoffDelay, classifyFailure } from './failures.js';
import { attemptOf, copyProperties, headers, messageIdOf } from './message.js';
import { confirmationDelay, consumed, consumedFrom, consumerLag, deadLettered, ordersConfirmed, processingDuration, retries } from './metrics.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const QUEUE_CHECK_TIMEOUT_MS = 1_000;

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * One broker channel of the wrapper: amqp-connection-manager opens a new one after each reconnect. Delivery tags
 * belong to the channel that delivered them; an ack with a tag on any other channel is a channel error.
 */
interface BrokerChannel {
  readonly channel: ConfirmChannel;
  open: boolean;
  /** Set from the moment a subscription is requested until it is cancelled: one subscription per channel. */
  subscribed: boolean;
  consumerTag: string | undefined;
}

interface Delivery {
  readonly msg: ConsumeMessage;
  readonly on: BrokerChannel;
}

/** While Postgres is unavailable: consumption is cancelled, and Postgres is probed until it answers. */
interface Outage {
  readonly since: number;
  /** Resolves once the broker confirmed the cancellation: no message handed back can be delivered to us again. */
  readonly cancelled: Promise<void>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Consumes order-created events with bounded prefetch: simulates payment and the confirmation e-mail (once per
 * event), then marks the order confirmed through a batched UPDATE and acknowledges. A failed attempt is handled by
 * what it says about the message (failures.ts):
 * - invalid message: straight to the dead-letter queue;
 * - Postgres unavailable: consumption pauses (basic.cancel), the messages in hand go back to the queue (nack with
 *   requeue, not counted as attempts), and Postgres is probed with a capped exponential backoff; consumption
 *   resumes when it answers. An outage of any length dead-letters nothing;
 * - anything else: the retry queue with a capped exponential per-message TTL, the dead-letter queue after
 *   `maxAttempts`.
 */
export class OrderConsumer {
  private readonly channel: ChannelWrapper;
  private readonly batcher: Batcher<number>;
  private readonly mailer: ConfirmationMailer;
  private current: BrokerChannel | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private outage: Outage | undefined;
  /** Pauses and failed probes since the last message processed: the exponent of the backoff. */
  private dependencyFailures = 0;
  private stopping = false;

  constructor(
    private readonly pool: pg.Pool,
    connection: AmqpConnectionManager,
    private readonly config: FulfillmentConfig,
    private readonly faults: FaultRegistry<ShopFault>,
    private readonly logger: Logger,
  ) {
    this.batcher = new Batcher((ids) => this.confirm(ids), config.batch.size, config.batch.intervalMs);
    this.mailer = new ConfirmationMailer(pool, faults, logger);
    this.channel = connection.createChannel({
      name: 'fulfillment-consumer',
      confirm: true,
      setup: (channel: ConfirmChannel) => this.setup(channel),
    });
    // A failed setup is emitted as 'error': unhandled, it would end the process; the next reconnect sets up again.
    this.channel.on('error', (err: unknown) => {
      this.logger.warn('rabbitmq channel setup failed', { err: errorMessage(err) });
    });
    const channel = this.channel;
    createGauge(metrics.messagingQueueMessages, async (gauge) => {
      gauge.reset();
      // In parallel and bounded: a broker that stops answering without closing the connection must not stall the
      // scrape (and with it the service's own RED metrics).
      const depths = await Promise.allSettled(
        [topology.queue, topology.retryQueue, topology.deadLetterQueue].map(async (queue) => {
          const info = await Promise.race([
            channel.checkQueue(queue),
            new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('checkQueue timed out')), QUEUE_CHECK_TIMEOUT_MS).unref()),
          ]);
          return [queue, info.messageCount] as const;
        }),
      );
      // Broker unreachable: no sample rather than a wrong one.
      for (const depth of depths) if (depth.status === 'fulfilled') gauge.set({ messaging_destination_name: depth.value[0] }, depth.value[1]);
    });
  }

  /** True while consumption is paused for a Postgres outage. */
  get paused(): boolean {
    return this.outage !== undefined;
  }

  private async setup(channel: ConfirmChannel): Promise<void> {
    const broker: BrokerChannel = { channel, open: true, subscribed: false, consumerTag: undefined };
    channel.once('close', () => {
      broker.open = false;
    });
    this.current = broker;
    await assertTopology(channel);
    await channel.prefetch(this.config.consumer.prefetch);
    if (!this.stopping && this.outage === undefined) await this.subscribe(broker);
  }

  private async subscribe(broker: BrokerChannel): Promise<void> {
    if (broker.subscribed) return;
    broker.subscribed = true;
    try {
      const { consumerTag } = await broker.channel.consume(topology.queue, (msg) => {
        if (msg === null) {
          broker.subscribed = false;
          broker.consumerTag = undefined;
          this.onBrokerCancel(broker);
          return;
        }
        this.track(this.handle({ msg, on: broker }));
      });
      broker.consumerTag = consumerTag;
    } catch (err) {
      broker.subscribed = false;
      throw err;
    }
    // Paused, stopped or unsubscribed while the subscription was on its way.
    if (!this.shouldConsume(broker)) await this.unsubscribe(broker);
  }

  // Methods rather than field reads: the state changes while we await.
  private shouldConsume(broker: BrokerChannel): boolean {
    return !this.stopping && this.outage === undefined && broker.subscribed;
  }

  private isStopping(): boolean {
    return this.stopping;
  }

  private async unsubscribe(broker: BrokerChannel): Promise<void> {
    broker.subscribed = false;
    const tag = broker.consumerTag;
    broker.consumerTag = undefined;
    if (tag === undefined || !broker.open) return;
    try {
      await broker.channel.cancel(tag);
    } catch (err) {
      // The channel closed meanwhile: it took its deliveries and subscription with it.
      this.logger.debug('could not cancel the consumer', { err: errorMessage(err) });
    }
  }

  /** The broker cancelled the subscription (the queue was deleted): declare the topology again and resubscribe. */
  private onBrokerCancel(broker: BrokerChannel): void {
    this.logger.warn('consumer cancelled by the broker; subscribing again', { queue: topology.queue });
    setTimeout(() => {
      if (this.stopping || this.outage !== undefined || !broker.open || broker !== this.current || broker.subscribed) return;
      assertTopology(broker.channel)
        .then(() => this.subscribe(broker))
        .catch((err: unknown) => this.logger.warn('could not subscribe again', { err: errorMessage(err) }));
    }, 1_000).unref();
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => {
      this.logger.error('order event handler failed', { err: errorMessage(err) });
    });
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  /**
   * Acks or requeues a delivery on the channel that delivered it, if that channel is still the open one. After a
   * reconnect the old channel is gone and the broker redelivers its unacknowledged messages by itself: sending
   * the tag on the new channel would instead close that channel with PRECONDITION_FAILED (unknown delivery tag).
   */
  private settle(delivery: Delivery, outcome: 'ack' | 'requeue'): boolean {
    const { msg, on } = delivery;
    if (!on.open || on !== this.current) {
      this.logger.debug('delivery channel closed; the broker redelivers the message', { message_id: messageIdOf(msg), outcome });
      return false;
    }
    try {
      if (outcome === 'ack') on.channel.ack(msg);
      else on.channel.nack(msg, false, true);
      return true;
    } catch (err) {
      this.logger.warn('could not settle a delivery; the broker redelivers the message', { err: errorMessage(err), outcome });
      return false;
    }
  }

  private async confirm(orderIds: number[]): Promise<void> {
    // Idempotent: a redelivered event finds its order already confirmed and changes nothing.
    const result = await timeDbOperation('orders.confirm_batch', async () => {
      await waitOutSlowQueries(this.faults);
      return this.pool.query(
        `UPDATE orders SET status = 'confirmed', updated_at = now()
          WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
        [orderIds],
      );
    });
    ordersConfirmed.inc(result.rowCount ?? 0);
  }

  private async handle(delivery: Delivery): Promise<void> {
    const { msg } = delivery;
    const started = performance.now();
    if (typeof msg.properties.timestamp === 'number') {
      consumerLag.set({ messaging_destination_name: topology.queue }, Math.max(0, Date.now() / 1000 - msg.properties.timestamp));
    }
    while (this.faults.get('consumer_paused') !== undefined && !this.stopping) await sleep(200);
    if (this.stopping && this.faults.get('consumer_paused') !== undefined) {
      // Shutting down while held: hand it back untouched.
      this.settle(delivery, 'requeue');
      return;
    }
    if (!delivery.on.open) {
      // Its channel closed while it waited: the broker has already given it to the new channel.
      return;
    }
    const attempt = attemptOf(msg);
    let error_type = '';
    try {
      const event = orderCreatedEvent.parse(JSON.parse(msg.content.toString('utf8')));
      await this.simulatePayment();
      await this.mailer.send(emailKey(messageIdOf(msg), event), event, attempt);
      await this.batcher.add(event.orderId);
      this.dependencyFailures = 0;
      this.settle(delivery, 'ack');
      // A redelivered event is observed again (at least once): rare, and on the side of reporting staleness.
      const delaySeconds = Math.max(0, (Date.now() - Date.parse(event.createdAt)) / 1000);
      if (Number.isFinite(delaySeconds)) observeWithExemplar(confirmationDelay, {}, delaySeconds, exemplarFor());
    } catch (err) {
      const kind = classifyFailure(err);
      error_type = kind === 'invalid' ? 'invalid_message' : OTHER;
      if (kind === 'dependency') await this.holdForOutage(delivery, err);
      else await this.giveBack(delivery, attempt, kind === 'invalid' || attempt >= this.config.consumer.maxAttempts ? 'dead_lettered' : 'retried', kind, err);
    }
    consumed.inc({ ...consumedFrom, error_type });
    observeWithExemplar(processingDuration, { ...consumedFrom, error_type }, (performance.now() - started) / 1000, exemplarFor());
  }

  /**
   * Postgres failed this message: pause consumption (once for all the messages in hand), then hand the message
   * back to the main queue, where it waits for the consumer to resume. Its attempt count is unchanged.
   */
  private async holdForOutage(delivery: Delivery, err: unknown): Promise<void> {
    const outage = this.pause(err);
    await outage?.cancelled;
    if (this.settle(delivery, 'requeue')) retries.inc({ messaging_destination_name: topology.queue });
    this.logger.info('order event returned to the queue until postgres is back', {
      message_id: messageIdOf(delivery.msg),
      err: errorMessage(err),
    });
  }

  private pause(err: unknown): Outage | undefined {
    if (this.outage !== undefined || this.stopping) return this.outage;
    this.dependencyFailures += 1;
    const delay = backoffDelay(this.config.consumer.backoff, this.dependencyFailures);
    const broker = this.current;
    const outage: Outage = {
      since: Date.now(),
      cancelled: broker === undefined ? Promise.resolve() : this.unsubscribe(broker),
      timer: undefined,
    };
    outage.timer = setTimeout(() => void this.probe(outage), delay);
    this.outage = outage;
    this.logger.warn('postgres unavailable: consumption paused', { err: errorMessage(err), probe_in_ms: delay });
    return outage;
  }

  /** Resumes consumption once Postgres answers; otherwise probes again, later. */
  private async probe(outage: Outage): Promise<void> {
    if (this.stopping || this.outage !== outage) return;
    try {
      await this.pool.query('SELECT 1');
    } catch (err) {
      if (this.isStopping()) return;
      this.dependencyFailures += 1;
      const delay = backoffDelay(this.config.consumer.backoff, this.dependencyFailures);
      this.logger.debug('postgres still unavailable', { err: errorMessage(err), probe_in_ms: delay });
      outage.timer = setTimeout(() => void this.probe(outage), delay);
      return;
    }
    if (this.isStopping()) return;
    await outage.cancelled;
    this.outage = undefined;
    this.logger.info('postgres available again: consumption resumed', { paused_ms: Date.now() - outage.since });
    const broker = this.current;
    if (broker?.open === true) {
      // If this fails the channel is closing: the reconnect's setup subscribes.
      await this.subscribe(broker).catch((err: unknown) => this.logger.warn('could not resume consuming', { err: errorMessage(err) }));
    }
  }

  private async giveBack(
    delivery: Delivery,
    attempt: number,
    outcome: 'retried' | 'dead_lettered',
    kind: 'invalid' | 'processing',
    err: unknown,
  ): Promise<void> {
    const { msg } = delivery;
    const reason = errorMessage(err).slice(0, 500);
    const messageId = messageIdOf(msg);
    try {
      if (outcome === 'retried') {
        const delay = backoffDelay(this.config.consumer.backoff, attempt);
        const options = copyProperties(msg, { [headers.attempt]: attempt + 1, [headers.lastError]: reason });
        await this.channel.sendToQueue(topology.retryQueue, msg.content, { ...options, expiration: String(delay) });
        retries.inc({ messaging_destination_name: topology.queue });
        this.logger.warn('order event failed, retrying', { attempt, delay_ms: delay, err: reason, message_id: messageId });
      } else {
        const options = copyProperties(msg, { [headers.attempt]: attempt + 1, [headers.lastError]: reason, [headers.failure]: kind });
        await this.channel.sendToQueue(topology.deadLetterQueue, msg.content, options);
        deadLettered.inc({ messaging_destination_name: topology.queue });
        this.logger.error('order event dead-lettered', { attempts: attempt, failure: kind, err: reason, message_id: messageId });
      }
      this.settle(delivery, 'ack');
    } catch (publishErr) {
      // Could not park it: leave it to the broker to redeliver rather than lose it.
      this.logger.warn('could not requeue failed message; broker will redeliver', { err: errorMessage(publishErr) });
      this.settle(delivery, 'requeue');
    }
  }

  private async simulatePayment(): Promise<void> {
    const { minMs, maxMs } = this.config.payment;
    await sleep(minMs + Math.random() * (maxMs - minMs));
  }

  /**
   * Stops in order: cancel the subscription (no new deliveries), let the handlers in flight finish (each acks or
   * hands back its message), write the last batch, then close the channel.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.outage !== undefined) clearTimeout(this.outage.timer);
    if (this.current !== undefined) await this.unsubscribe(this.current);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    await this.batcher.flush();
    await this.channel.close();
  }
}
