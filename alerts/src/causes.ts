import { metrics } from '@lookout/telemetry/contract';
import { dashboardUrl, runbookUrl, type AlertingRule, type RuleGroup } from './rules.js';

const RED = 'lookout-red-overview';

/** An alert whose runbook and dashboard follow the conventions; `service` may template a label of the series. */
function alert(spec: {
  alert: string;
  expr: string;
  for: string;
  severity: AlertingRule['labels']['severity'];
  service: string;
  summary: string;
  description: string;
}): AlertingRule {
  return {
    alert: spec.alert,
    expr: spec.expr,
    for: spec.for,
    labels: { severity: spec.severity, service: spec.service },
    annotations: {
      summary: spec.summary,
      description: spec.description,
      runbook_url: runbookUrl(spec.alert),
      dashboard_url: dashboardUrl(RED),
    },
  };
}

/** Alerts on causes (a dependency, a queue, the runtime) and on the alerting path itself. */
export function causeGroups(): RuleGroup[] {
  const m = metrics;
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
            dashboard_url: dashboardUrl(RED),
          },
        },
        alert({
          alert: 'TargetDown',
          expr: 'up == 0',
          for: '2m',
          severity: 'page',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }} at {{ $labels.instance }} cannot be scraped.',
          description: 'The scrape of {{ $labels.job }} at {{ $labels.instance }} has failed for 2 minutes (up = {{ $value }}): the process is down or unreachable, and its metrics are missing.',
        }),
      ],
    },
    {
      name: 'lookout-causes',
      rules: [
        alert({
          alert: 'DatabasePoolSaturated',
          expr: `max by (job, db_client_connection_pool_name) (${m.dbClientConnectionPendingRequests.name}) > 0`,
          for: '5m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }}: requests have been waiting for a Postgres connection for 5 minutes.',
          description: '{{ $value }} requests of pool {{ $labels.db_client_connection_pool_name }} wait for a connection: the pool is too small for the load, or statements are slow.',
        }),
        alert({
          alert: 'DeadLetterQueueNotEmpty',
          expr: `max by (job, messaging_destination_name) (${m.messagingQueueMessages.name}{messaging_destination_name=~".+\\\\.dlq"}) > 0`,
          for: '5m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.messaging_destination_name }} holds messages that failed every attempt.',
          description: '{{ $value }} messages wait in {{ $labels.messaging_destination_name }}: each is an order that was not fulfilled.',
        }),
        alert({
          alert: 'OutboxLagHigh',
          expr: `max by (job) (${m.outboxLag.name}) > 60`,
          for: '5m',
          severity: 'page',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }}: accepted orders have not been published for over a minute.',
          description: 'The oldest unpublished outbox event is {{ $value | humanizeDuration }} old: the broker is unreachable or the relay is stuck; orders are accepted but not fulfilled.',
        }),
        alert({
          alert: 'EventLoopLagHigh',
          expr: 'max by (job, service_instance_id) (nodejs_eventloop_lag_p99_seconds) > 0.2',
          for: '5m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }}: the event loop of an instance lags by over 200 ms.',
          description: 'The 99th percentile event-loop delay of {{ $labels.job }} ({{ $labels.service_instance_id }}) is {{ $value | humanizeDuration }}: every request on it waits that long.',
        }),
        alert({
          alert: 'TelemetryExportFailing',
          expr: `sum by (job) (rate({__name__=~"${m.otelSdkExporterSpanExported.name}|${m.otelSdkExporterLogExported.name}", error_type!=""}[5m])) > 0`,
          for: '10m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }} has been losing spans or log records for 10 minutes.',
          description: '{{ $value | humanize }} spans and log records per second fail to export from {{ $labels.job }}: the collector is unreachable or refusing them.',
        }),
      ],
    },
  ];
}
