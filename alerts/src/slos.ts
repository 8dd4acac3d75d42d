import { metrics } from '@lookout/telemetry/contract';
import type { Slo } from './slo.js';

const HTTP = metrics.httpServerRequestDuration.name;
const gateway = 'job="gateway"';
const DELAY = metrics.fulfillmentOrderConfirmationDelay.name;

/** The SLOs of the shop, over 30 days. Metric names come from the telemetry contract. */
export const SLOS: readonly Slo[] = [
  {
    name: 'gateway-availability',
    alertName: 'GatewayAvailability',
    service: 'gateway',
    objective: 0.999,
    description: '99.9% of requests to the gateway are answered without a server error (5xx, timeouts included; 4xx are the client\'s)',
    errors: (w) => `sum(rate(${HTTP}_count{${gateway}, http_response_status_code=~"5.."}[${w}]))`,
    total: (w) => `sum(rate(${HTTP}_count{${gateway}}[${w}]))`,
    dashboardUid: 'lookout-red-overview',
  },
  {
    name: 'gateway-latency',
    alertName: 'GatewayLatency',
    service: 'gateway',
    objective: 0.99,
    description: '99% of requests to the gateway are answered within 300 ms',
    errors: (w) => `sum(rate(${HTTP}_count{${gateway}}[${w}])) - sum(rate(${HTTP}_bucket{${gateway}, le="0.3"}[${w}]))`,
    total: (w) => `sum(rate(${HTTP}_count{${gateway}}[${w}]))`,
    dashboardUid: 'lookout-red-overview',
  },
  {
    name: 'order-freshness',
    alertName: 'OrderFreshness',
    service: 'fulfillment',
    objective: 0.99,
    description: '99% of accepted orders are confirmed within 60 s of their acceptance',
    errors: (w) =>
      `sum(rate(${DELAY}_count[${w}])) - sum(rate(${DELAY}_bucket{le="60"}[${w}]))`,
    total: (w) => `sum(rate(${DELAY}_count[${w}]))`,
    dashboardUid: 'lookout-red-overview',
  },
];
