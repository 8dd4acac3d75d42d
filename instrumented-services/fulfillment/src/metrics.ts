import { topology } from '@lookout/shop-contracts';
import { createCounter, createHistogram, createGauge, metrics } from '@lookout/telemetry';

export const consumed = createCounter(metrics.messagingClientConsumedMessages);
export const processingDuration = createHistogram(metrics.messagingProcessDuration);
export const retries = createCounter(metrics.messagingRetriedMessages);
export const deadLettered = createCounter(metrics.messagingDeadLetteredMessages);
export const consumerLag = createGauge(metrics.messagingConsumerLag);
export const ordersConfirmed = createCounter(metrics.fulfillmentOrdersConfirmed);
export const confirmationDelay = createHistogram(metrics.fulfillmentOrderConfirmationDelay);

/** The labels of the one queue fulfillment consumes. */
export const consumedFrom = { messaging_system: 'rabbitmq', messaging_destination_name: topology.queue } as const;

// Zero-valued series from the start, so that alerts on retries or dead letters see 0 rather than nothing.
consumed.inc({ ...consumedFrom, error_type: '' }, 0);
retries.inc({ messaging_destination_name: topology.queue }, 0);
deadLettered.inc({ messaging_destination_name: topology.queue }, 0);
