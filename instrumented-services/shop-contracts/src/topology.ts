import type { ConfirmChannel } from 'amqplib';

/**
 * The order-event topology, declared identically by the publisher (orders) and the consumer (fulfillment), so that
 * no event is dropped as unroutable whichever starts first.
 *
 *   exchange `orders` (topic) --order.created--> queue `fulfillment.order-created`
 *   queue `fulfillment.order-created.retry`: messages wait out their per-message TTL, then dead-letter back to
 *     `orders` with routing key order.created
 *   queue `fulfillment.order-created.dlq`: messages that failed every attempt, kept for inspection
 */
export const topology = {
  exchange: 'orders',
  routingKey: 'order.created',
  queue: 'fulfillment.order-created',
  retryQueue: 'fulfillment.order-created.retry',
  deadLetterQueue: 'fulfillment.order-created.dlq',
} as const;

export async function assertTopology(channel: ConfirmChannel): Promise<void> {
  await channel.assertExchange(topology.exchange, 'topic', { durable: true });
  await channel.assertQueue(topology.queue, { durable: true });
  await channel.bindQueue(topology.queue, topology.exchange, topology.routingKey);
  await channel.assertQueue(topology.retryQueue, {
    durable: true,
    deadLetterExchange: topology.exchange,
    deadLetterRoutingKey: topology.routingKey,
  });
  await channel.assertQueue(topology.deadLetterQueue, { durable: true });
}
