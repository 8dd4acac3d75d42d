import { DURATION_BUCKETS, promClient, registry } from '@lookout/telemetry';

export const consumed = new promClient.Counter({
  name: 'messaging_messages_consumed_total',
  help: 'Messages consumed, by outcome: processed, retried or dead_lettered.',
  labelNames: ['messaging_destination_name', 'outcome'] as const,
  registers: [registry],
});

export const processingDuration = new promClient.Histogram({
  name: 'messaging_process_duration_seconds',
  help: 'Time from receiving a message to its acknowledgement, including the batched database write.',
  labelNames: ['messaging_destination_name', 'outcome'] as const,
  buckets: DURATION_BUCKETS,
  enableExemplars: true,
  registers: [registry],
});

export const retries = new promClient.Counter({
  name: 'messaging_retries_total',
  help: 'Messages sent to the retry queue after a failed attempt.',
  labelNames: ['messaging_destination_name'] as const,
  registers: [registry],
});

export const deadLettered = new promClient.Counter({
  name: 'messaging_dead_lettered_total',
  help: 'Messages moved to the dead-letter queue after their last attempt.',
  labelNames: ['messaging_destination_name'] as const,
  registers: [registry],
});

export const consumerLag = new promClient.Gauge({
  name: 'messaging_consumer_lag_seconds',
  help: 'Age of the most recently received message when it arrived (publish to consume).',
  labelNames: ['messaging_destination_name'] as const,
  registers: [registry],
});

export const ordersConfirmed = new promClient.Counter({
  name: 'fulfillment_orders_confirmed_total',
  help: 'Orders moved from pending to confirmed (an order delivered twice is counted once).',
  registers: [registry],
});
