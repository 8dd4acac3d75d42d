import { envUrl } from '@lookout/config';
import type { DependencyCheck } from '@lookout/http-kit';
import type { Logger } from '@lookout/telemetry';
import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';

export const rabbitmqEnv = {
  RABBITMQ_URL: envUrl('amqp://guest:guest@127.0.0.1:5672', ['amqp:', 'amqps:']),
};

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
