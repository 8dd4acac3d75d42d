import { inTransaction, assertTopology, topology } from '@lookout/service-kit';
import { promClient, registry, withoutTraceContext, withTraceContext, type Logger } from '@lookout/telemetry';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import type pg from 'pg';

const published = new promClient.Counter({
  name: 'outbox_published_total',
  help: 'Outbox events published to RabbitMQ and confirmed by the broker.',
  registers: [registry],
});
const publishFailures = new promClient.Counter({
  name: 'outbox_publish_failures_total',
  help: 'Relay rounds that failed to publish (broker unreachable or unconfirmed); their events stay in the outbox.',
  registers: [registry],
});

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
 */
export class OutboxRelay {
  private readonly channel: ChannelWrapper;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private kicked = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connection: AmqpConnectionManager,
    private readonly options: OutboxRelayOptions,
    private readonly logger: Logger,
  ) {
    this.channel = connection.createChannel({
      name: 'outbox-relay',
      confirm: true,
      publishTimeout: options.publishTimeoutMs,
      setup: (channel: ConfirmChannel) => assertTopology(channel),
    });
    new promClient.Gauge({
      name: 'outbox_pending_messages',
      help: 'Outbox events not yet published.',
      registers: [registry],
      collect: async function (this: promClient.Gauge) {
        const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL');
        this.set(rows[0]?.n ?? 0);
      },
    });
    new promClient.Gauge({
      name: 'outbox_lag_seconds',
      help: 'Age of the oldest outbox event not yet published (0 when none is waiting).',
      registers: [registry],
      collect: async function (this: promClient.Gauge) {
        const { rows } = await pool.query<{ age: number | null }>(
          'SELECT extract(epoch FROM now() - min(created_at))::float8 AS age FROM outbox WHERE sent_at IS NULL',
        );
        this.set(rows[0]?.age ?? 0);
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
    if (this.options.blocked?.() === true || !this.connection.isConnected()) return;
    try {
      let sent: number;
      do sent = await this.relayBatch();
      while (sent === this.options.batchSize && !this.stopped);
    } catch (err) {
      publishFailures.inc();
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
      await Promise.all(
        rows.map((row) =>
          withTraceContext(row.headers, () =>
            this.channel.publish(topology.exchange, row.routing_key, Buffer.from(JSON.stringify(row.payload)), {
              persistent: true,
              contentType: 'application/json',
              messageId: `outbox-${row.id}`,
              timestamp: Math.floor(Date.now() / 1000),
              type: row.routing_key,
            }),
          ),
        ),
      );
      await client.query('UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      published.inc(rows.length);
      return rows.length;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.channel.close();
  }
}
