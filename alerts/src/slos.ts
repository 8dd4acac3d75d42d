import { metrics } from '@lookout/telemetry/contract';
import { collectorRate } from './pipeline.js';
import { DASHBOARDS } from './rules.js';
import type { Slo } from './slo.js';

const HTTP = metrics.httpServerRequestDuration.name;
const gateway = 'job="gateway"';
const DELAY = metrics.fulfillmentOrderConfirmationDelay.name;
const lost = (kinds: string[], w: string) => `(sum(${collectorRate(kinds, w)}) or vector(0))`;

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
    dashboardUid: DASHBOARDS.slos,
  },
  {
    name: 'gateway-latency',
    alertName: 'GatewayLatency',
    service: 'gateway',
    objective: 0.99,
    description: '99% of requests to the gateway are answered within 300 ms',
    errors: (w) => `sum(rate(${HTTP}_count{${gateway}}[${w}])) - sum(rate(${HTTP}_bucket{${gateway}, le="0.3"}[${w}]))`,
    total: (w) => `sum(rate(${HTTP}_count{${gateway}}[${w}]))`,
    dashboardUid: DASHBOARDS.slos,
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
    dashboardUid: DASHBOARDS.slos,
  },
  {
    name: 'telemetry-pipeline',
    alertName: 'TelemetryPipeline',
    service: 'otel-collector',
    objective: 0.999,
    description:
      '99.9% of the spans, log records and metric points sent to the collector reach their backend (refused or failed at a receiver, dropped from a full queue or failed after every retry are lost)',
    errors: (w) =>
      lost(['receiver_refused', 'receiver_failed', 'exporter_send_failed', 'exporter_enqueue_failed'], w),
    total: (w) => `sum(${collectorRate(['receiver_accepted', 'receiver_refused', 'receiver_failed'], w)})`,
    dashboardUid: DASHBOARDS.pipeline,
  },
];
