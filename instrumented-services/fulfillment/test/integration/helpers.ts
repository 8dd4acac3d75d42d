import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { metrics as contract } from '@lookout/telemetry/contract';
import { ADMIN_TOKEN, scrape, ShopStack, sumOf, type ServiceProcess } from '@lookout/testkit';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';

export const queues = {
  main: 'fulfillment.order-created',
  retry: 'fulfillment.order-created.retry',
  dlq: 'fulfillment.order-created.dlq',
} as const;

/**
 * Postgres, RabbitMQ and the two services that share the orders database: orders (it migrates the schema; its
 * outbox stays empty, the tests publish the events themselves, as its relay would) and fulfillment.
 */
export async function fulfillmentStack(env: Record<string, string> = {}): Promise<ShopStack> {
  return ShopStack.start({
    start: ['orders', 'fulfillment'],
    env: { fulfillment: { BATCH_INTERVAL_MS: '50', MAX_ATTEMPTS: '3', RETRY_MAX_DELAY_MS: '1000', ...env } },
  });
}

/** A confirm channel of the tests' own on the stack's broker. */
export async function brokerChannel(stack: ShopStack): Promise<{ connection: ChannelModel; channel: ConfirmChannel }> {
  const connection = await amqplib.connect(stack.rabbitmq.url);
  connection.on('error', () => undefined);
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => undefined);
  return { connection, channel };
}

/** Pending orders written straight into the orders table, as the orders service would. */
export async function insertOrders(stack: ShopStack, count: number): Promise<number[]> {
  const { rows } = await stack.database('orders').query<{ id: number }>(
    `INSERT INTO orders (client_id, customer_email, total_cents, currency)
     SELECT 'fulfillment-test', 'buyer@example.com', 1999, 'EUR' FROM generate_series(1, $1) RETURNING id::int AS id`,
    [count],
  );
  return rows.map((r) => r.id);
}

export function orderEvent(orderId: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      orderId,
      customerEmail: 'buyer@example.com',
      totalCents: 1999,
      currency: 'EUR',
      items: [{ productId: 1, quantity: 1, unitPriceCents: 1999 }],
      createdAt: new Date().toISOString(),
    }),
  );
}

export const eventId = () => `outbox-test-${randomUUID()}`;

/** Publishes through the orders exchange as the outbox relay does, and waits for the broker's confirms. */
export async function publishEvents(channel: ConfirmChannel, events: readonly { content: Buffer; messageId: string }[]): Promise<void> {
  for (const { content, messageId } of events) {
    channel.publish('orders', 'order.created', content, {
      persistent: true,
      contentType: 'application/json',
      messageId,
      timestamp: Math.floor(Date.now() / 1000),
      type: 'order.created',
    });
  }
  await channel.waitForConfirms();
}

export async function confirmedCount(stack: ShopStack, ids: readonly number[]): Promise<number> {
  const { rows } = await stack.database('orders').query<{ n: number }>(
    `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::bigint[]) AND status = 'confirmed'`,
    [ids],
  );
  return rows[0]?.n ?? 0;
}

/** Rows of fulfillment_emails per message id. */
export async function emailRows(stack: ShopStack, messageIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await stack.database('orders').query<{ message_id: string; n: number }>(
    'SELECT message_id, count(*)::int AS n FROM fulfillment_emails WHERE message_id = ANY($1::text[]) GROUP BY message_id',
    [messageIds],
  );
  return new Map(rows.map((r) => [r.message_id, r.n]));
}

/** Log lines of `service` with this message, optionally for one message id. */
export function logsOf(service: ServiceProcess, message: string, messageId?: string): number {
  return service.logs.filter((l) => l.message === message && (messageId === undefined || l.message_id === messageId)).length;
}

export async function queueDepth(channel: ConfirmChannel, queue: string): Promise<number> {
  return (await channel.checkQueue(queue)).messageCount;
}

/** fulfillment's own counters of what it did with messages. */
export async function outcomes(service: ServiceProcess) {
  const samples = await scrape(service.baseUrl);
  const consumed = contract.messagingClientConsumedMessages.name;
  return {
    processed: sumOf(samples, consumed, { error_type: '' }),
    invalid: sumOf(samples, consumed, { error_type: 'invalid_message' }),
    retried: sumOf(samples, contract.messagingRetriedMessages.name),
    deadLettered: sumOf(samples, contract.messagingDeadLetteredMessages.name),
  };
}

export async function setFault(service: ServiceProcess, fault: Record<string, unknown>): Promise<void> {
  const res = await service.fetch('/admin/faults', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ durationSeconds: 120, ...fault }),
  });
  if (!res.ok) throw new Error(`fault refused: ${res.status} ${await res.text()}`);
}

export async function clearFault(service: ServiceProcess, name: string): Promise<void> {
  const res = await service.fetch(`/admin/faults/${name}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (!res.ok && res.status !== 404) throw new Error(`fault not cleared: ${res.status} ${await res.text()}`);
}

const replayEntry = path.resolve(__dirname, '../../src/replay-dlq.js');

/** Runs the documented replay command against the stack's broker. */
export function replayDlq(stack: ShopStack, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [replayEntry, ...args], { env: { ...process.env, RABBITMQ_URL: stack.rabbitmq.url }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
