import { inTransaction } from '@lookout/clients';
import { assertTopology, topology } from '@lookout/shop-contracts';
import { createCounter, metrics, OTHER, withoutTraceContext, withTraceContext, type Logger } from '@lookout/telemetry';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import { once } from 'node:events';
import type pg from 'pg';

const sent = createCounter(metrics.messagingClientSentMessages);
const sentLabels = { messaging_system: 'rabbitmq', messaging_destination_name: topology.exchange };
sent.inc({ ...sentLabels, error_type: '' }, 0);

/** error.type of a failed publish: a publish timeout or a broker refusal; _OTHER for anything else. */
function publishErrorType(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (/timeout/i.test(message)) return 'timeout';
  if (/nack|reject/i.test(message)) return 'rejected';
  return OTHER;
}

interface OutboxRow {
  id: number;
  routing_key: string;
  payload: unknown;
  headers: Record<string, unknown>;
}

export interface OutboxRelayOptions {
  pollIntervalMs: number;
  batchSize: number;
  publishTimeoutMs: number;
  /** While it returns true (the `publish_blocked` fault), the relay publishes nothing. */
  blocked?: () => boolean;
}

/**
 * Relays outbox rows to RabbitMQ: locks a batch of unsent rows (FOR UPDATE SKIP LOCKED, so several instances
 * share the work), publishes each with publisher confirms inside the trace context stored with it, and marks the
 * batch sent in the same transaction. If the broker is down nothing is marked and the rows wait: orders keep
 * being accepted and every event is delivered once the broker is back (at least once; consumers deduplicate).
 *
 * amqp-connection-manager keeps the connection and declares the topology on every reconnect, but the relay
 * publishes on the amqplib channel itself: the wrapper's own publish queues a message whenever its channel is still
 * being set up or its write buffer is full, and sends it later from another async context, so the amqplib
 * instrumentation saw no trace context and put the event in a new trace. That happened to the whole backlog right
 * after a broker outage (the RabbitMQ outage drill lost the fulfillment half of 58 traces).
 */
export class OutboxRelay {
  private readonly wrapper: ChannelWrapper;
  /** The confirm channel, once its topology is declared; unset while the broker is away. */
  private channel: ConfirmChannel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private kicked = false;

  constructor(
    private readonly pool: pg.Pool,
    connection: AmqpConnectionManager,
    private readonly options: OutboxRelayOptions,
    private readonly logger: Logger,
  ) {
    this.wrapper = connection.createChannel({
      name: 'outbox-relay',
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
        await assertTopology(channel);
        this.channel = channel;
        channel.once('close', () => {
          if (this.channel === channel) this.channel = undefined;
        });
      },
    });
  }

  start(): void {
    this.schedule(0);
  }

  /** Asks for a relay round now (after an order committed) instead of at the next poll. */
  kick(): void {
    if (this.running !== undefined) {
      this.kicked = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    // Rounds belong to no request, even when a request kicked them.
    this.timer = withoutTraceContext(() => setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = undefined;
        const again = this.kicked;
        this.kicked = false;
        this.schedule(again ? 0 : this.options.pollIntervalMs);
      });
    }, delayMs));
  }

  private async round(): Promise<void> {
    if (this.options.blocked?.() === true || this.channel === undefined) return;
    try {
      let sent: number;
      do sent = await this.relayBatch();
      while (sent === this.options.batchSize && !this.stopped);
    } catch (err) {
      this.logger.warn('outbox relay failed; events stay queued', { err: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Publishes one batch; returns how many events were sent. */
  async relayBatch(): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<OutboxRow>(
        `SELECT id, routing_key, payload, headers FROM outbox WHERE sent_at IS NULL
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batchSize],
      );
      if (rows.length === 0) return 0;
      try {
        await this.publishAll(rows);
      } catch (err) {
        sent.inc({ ...sentLabels, error_type: publishErrorType(err) }, rows.length);
        throw err;
      }
      await client.query('UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      sent.inc({ ...sentLabels, error_type: '' }, rows.length);
      return rows.length;
    });
  }

  /** Publishes every row, each inside its own stored trace context, and waits for all broker confirms. */
  private async publishAll(rows: OutboxRow[]): Promise<void> {
    const channel = this.channel;
    if (channel === undefined) throw new Error('broker channel closed');
    const confirms: Promise<void>[] = [];
    for (const row of rows) {
      const { confirm, hasRoom } = this.publishOne(channel, row);
      // Handled here so that a nack arriving while the loop waits for a drain is not an unhandled rejection;
      // Promise.all below still sees it.
      confirm.catch(() => undefined);
      confirms.push(confirm);
      // A full write buffer: wait for it to drain (or the channel to close) instead of buffering the batch in memory.
      if (!hasRoom) await Promise.race([once(channel, 'drain'), once(channel, 'close')]);
    }
    await Promise.all(confirms);
  }

  /** Publishes one row in its stored trace context; `hasRoom` is false when the channel's write buffer is full. */
  private publishOne(channel: ConfirmChannel, row: OutboxRow): { confirm: Promise<void>; hasRoom: boolean } {
    let settle: (err?: Error) => void = () => undefined;
    const confirm = new Promise<void>((resolve, reject) => {
      settle = (err) => (err === undefined ? resolve() : reject(err));
    });
    const timer = setTimeout(() => {
      settle(new Error(`publish confirm timeout after ${this.options.publishTimeoutMs} ms`));
    }, this.options.publishTimeoutMs);
    const done = (err: unknown) => {
      clearTimeout(timer);
      settle(err === null || err === undefined ? undefined : err instanceof Error ? err : new Error('message nacked by the broker'));
    };
    try {
      const hasRoom = withTraceContext(row.headers, () =>
        channel.publish(topology.exchange, row.routing_key, Buffer.from(JSON.stringify(row.payload)), {
          persistent: true,
          contentType: 'application/json',
          messageId: `outbox-${row.id}`,
          timestamp: Math.floor(Date.now() / 1000),
          type: row.routing_key,
        }, done),
      );
      return { confirm, hasRoom };
    } catch (err) {
      // publish() throws once the channel is closed.
      done(err);
      return { confirm, hasRoom: true };
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.wrapper.close();
  }
}
