import { metrics } from '@lookout/telemetry/contract';
import { alertRule, DASHBOARDS, dashboardUrl, ratesApart, runbookUrl, type RuleGroup } from './rules.js';
import { THRESHOLDS } from './thresholds.js';

const m = metrics;
const perService = '?var-service={{ $labels.job }}';
/** The order topology's main queues: neither the retry nor the dead-letter queue (shop-contracts' topology). */
const MAIN_QUEUES = 'messaging_destination_name!~".+\\\\.(dlq|retry)"';
const up = (dependency: string) => `max by (job) (${m.dependencyUp.name}{dependency_name="${dependency}"})`;

/** The alerts that say a dependency is gone: a page of one of them silences the symptoms it causes (alertmanager.ts). */
export const DEPENDENCY_ALERTS = { postgres: 'PostgresUnreachable', broker: 'BrokerUnreachable', redis: 'RedisUnreachable' } as const;

/** Alerts on causes (a dependency, a queue, the runtime) and on the alerting path itself. */
export function causeGroups(): RuleGroup[] {
  return [
    {
      name: 'lookout-meta',
      rules: [
        {
          alert: 'Watchdog',
          expr: 'vector(1)',
          labels: { severity: 'info', service: 'alerting' },
          annotations: {
            summary: 'Always firing: proves that rules are evaluated and notifications reach Alertmanager.',
            description: 'This alert fires all the time ({{ $value }}). When it stops arriving, the alerting path is broken.',
            runbook_url: runbookUrl('Watchdog'),
            dashboard_url: dashboardUrl(DASHBOARDS.overview),
          },
        },
        alertRule({
          alert: 'TargetDown',
          expr: 'up == 0',
          for: '2m',
          severity: 'page',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }} at {{ $labels.instance }} cannot be scraped.',
          description: 'The scrape of {{ $labels.job }} at {{ $labels.instance }} has failed for 2 minutes (up = {{ $value }}): the process is down or unreachable, and its metrics are missing.',
          dashboard: 'overview',
        }),
      ],
    },
    {
      name: 'lookout-dependencies',
      rules: [
        alertRule({
          alert: DEPENDENCY_ALERTS.postgres,
          expr: `${up('postgres')} == 0`,
          for: '1m',
          severity: 'page',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }} cannot reach Postgres.',
          description: 'The health checks of {{ $labels.job }} have not reached Postgres for a minute (dependency_up = {{ $value }}): requests that need the database fail with 503, orders are refused.',
          dashboard: 'dependencies',
        }),
        alertRule({
          alert: DEPENDENCY_ALERTS.broker,
          expr: `${up('rabbitmq')} == 0`,
          for: '2m',
          severity: 'page',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }} cannot reach RabbitMQ.',
          description: 'The health checks of {{ $labels.job }} have not reached RabbitMQ for 2 minutes (dependency_up = {{ $value }}): accepted orders wait in the outbox and none is fulfilled.',
          dashboard: 'dependencies',
        }),
        alertRule({
          alert: DEPENDENCY_ALERTS.redis,
          expr: `${up('redis')} == 0`,
          for: '2m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }} cannot reach Redis.',
          description: 'The health checks of {{ $labels.job }} have not reached Redis for 2 minutes (dependency_up = {{ $value }}): the catalog answers from Postgres (slower, more load), the gateway limits rates per instance only.',
          dashboard: 'dependencies',
        }),
        alertRule({
          alert: 'CacheHitRatioLow',
          expr:
            `sum by (job, cache_name) (rate(${m.cacheRequests.name}{cache_result="hit"}[5m]))\n/\n` +
            `(sum by (job, cache_name) (rate(${m.cacheRequests.name}[5m])) > ${THRESHOLDS.minRequestRate})\n< ${THRESHOLDS.cacheHitRatio}`,
          for: '5m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }}: the {{ $labels.cache_name }} cache answers under a fifth of the look-ups.',
          description: 'Only {{ $value | humanizePercentage }} of {{ $labels.cache_name }} look-ups were hits over 5 minutes: Redis is unreachable, evicting, or keys expire too soon; Postgres takes the load.',
          dashboard: 'dependencies',
        }),
        alertRule({
          alert: 'DatabasePoolSaturated',
          expr: `max by (job, db_client_connection_pool_name) (${m.dbClientConnectionPendingRequests.name}) > ${THRESHOLDS.poolPendingRequests}`,
          for: '5m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }}: requests have been waiting for a Postgres connection for 5 minutes.',
          description: '{{ $value }} requests of pool {{ $labels.db_client_connection_pool_name }} wait for a connection: the pool is too small for the load, or statements are slow.',
          dashboard: 'dependencies',
        }),
      ],
    },
    {
      name: 'lookout-messaging',
      rules: [
        alertRule({
          alert: 'OutboxLagHigh',
          expr: `max by (job) (${m.outboxLag.name}) > ${THRESHOLDS.outboxLag}`,
          for: '2m',
          severity: 'page',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }}: accepted orders have waited over a minute to be published, for 2 minutes.',
          description: 'The oldest unpublished outbox event is {{ $value | humanizeDuration }} old: the broker is unreachable or the relay is stuck; orders are accepted but not fulfilled.',
          dashboard: 'dependencies',
        }),
        alertRule({
          alert: 'QueueConsumerStalled',
          // Work arrived (published within the window, or still waiting) but nothing was consumed. Waiting messages
          // alone would not do: a stuck consumer holds up to its prefetch unacknowledged, which the broker does not
          // count as ready.
          expr:
            `sum by (job) (rate(${m.messagingClientConsumedMessages.name}[2m])) == 0\n` +
            `and on ()\n(\n  sum(rate(${m.messagingClientSentMessages.name}{error_type=""}[2m])) > 0\n  or\n  sum(${m.messagingQueueMessages.name}{${MAIN_QUEUES}}) > 0\n)`,
          for: '1m',
          severity: 'page',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }} consumes nothing although order events arrive.',
          description: '{{ $labels.job }} has consumed {{ $value | humanize }} messages per second for 3 minutes while orders were published or waited in its queue: its consumer is paused, blocked or gone; orders are not fulfilled.',
          dashboard: 'dependencies',
        }),
        alertRule({
          alert: 'QueueBacklogGrowing',
          expr:
            `max by (job, messaging_destination_name) (${m.messagingQueueMessages.name}{${MAIN_QUEUES}}) > ${THRESHOLDS.queueBacklog}\n` +
            `and\nmax by (job, messaging_destination_name) (deriv(${m.messagingQueueMessages.name}{${MAIN_QUEUES}}[10m])) > 0`,
          for: '10m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.messaging_destination_name }} has been growing for 10 minutes.',
          description: '{{ $value }} messages wait in {{ $labels.messaging_destination_name }} and the backlog keeps growing: {{ $labels.job }} consumes slower than orders arrive.',
          dashboard: 'dependencies',
        }),
        alertRule({
          alert: 'DeadLetterQueueNotEmpty',
          expr: `max by (job, messaging_destination_name) (${m.messagingQueueMessages.name}{messaging_destination_name=~".+\\\\.dlq"}) > ${THRESHOLDS.deadLetters}`,
          for: '1m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.messaging_destination_name }} holds messages that failed every attempt.',
          description: '{{ $value }} messages wait in {{ $labels.messaging_destination_name }}: each is an order that was not fulfilled.',
          dashboard: 'dependencies',
        }),
      ],
    },
    {
      name: 'lookout-runtime',
      rules: [
        alertRule({
          alert: 'EventLoopLagHigh',
          expr: `max by (job, service_instance_id) (nodejs_eventloop_lag_p99_seconds) > ${THRESHOLDS.eventLoopLagP99}`,
          for: '5m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }}: the event loop of an instance lags by over 200 ms.',
          description: 'The 99th percentile event-loop delay of {{ $labels.job }} ({{ $labels.service_instance_id }}) is {{ $value | humanizeDuration }}: every request on it waits that long.',
          dashboard: 'runtime',
          dashboardQuery: perService,
        }),
        alertRule({
          alert: 'ProcessMemoryNearLimit',
          expr: `max by (job, service_instance_id) (nodejs_heap_size_used_bytes / ${m.nodejsHeapSizeLimit.name}) > ${THRESHOLDS.heapUsedRatio}`,
          for: '10m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }}: an instance uses over 85% of its heap limit.',
          description: 'An instance of {{ $labels.job }} ({{ $labels.service_instance_id }}) has used {{ $value | humanizePercentage }} of its V8 heap limit for 10 minutes: it will slow down in garbage collection, then crash out of memory.',
          dashboard: 'runtime',
          dashboardQuery: perService,
        }),
        alertRule({
          alert: 'TelemetryExportFailing',
          expr: `sum by (job) (\n  ${ratesApart([m.otelSdkExporterSpanExported.name, m.otelSdkExporterLogExported.name].map((n) => `${n}{error_type!=""}`), '5m')}\n) > 0`,
          for: '10m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }} has been losing spans or log records for 10 minutes.',
          description: '{{ $value | humanize }} spans and log records per second fail to export from {{ $labels.job }}: the collector is unreachable or refusing them.',
          dashboard: 'pipeline',
        }),
      ],
    },
  ];
}
