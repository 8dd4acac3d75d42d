import type { DependencyCheck, Logger } from '@lookout/telemetry';
import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import { envUrl } from './config.js';

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

export const rabbitmqEnv = {
  RABBITMQ_URL: envUrl('amqp://guest:guest@127.0.0.1:5672', ['amqp:', 'amqps:']),
};

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

/**
 * A RabbitMQ connection that reconnects by itself (amqp-connection-manager), logging transitions once each.
 */
export function connectRabbitMQ(url: string, name: string, logger: Logger): AmqpConnectionManager {
  const connection = amqp.connect([url], {
    heartbeatIntervalInSeconds: 5,
    reconnectTimeInSeconds: 1,
    connectionOptions: { clientProperties: { connection_name: name } },
  });
  let connected = false;
  connection.on('connect', () => {
    connected = true;
    logger.info('rabbitmq connected');
  });
  connection.on('disconnect', ({ err }) => {
    if (connected) logger.warn('rabbitmq disconnected', { err: err.message });
    connected = false;
  });
  connection.on('connectFailed', ({ err }) => {
    logger.debug('rabbitmq connection attempt failed', { err: err.message });
  });
  return connection;
}

/** Readiness check of a RabbitMQ connection. */
export function rabbitmqCheck(connection: AmqpConnectionManager, critical: boolean): DependencyCheck {
  return {
    name: 'rabbitmq',
    critical,
    check: () => (connection.isConnected() ? Promise.resolve() : Promise.reject(new Error('not connected'))),
  };
}
