import { alertRule, ratesApart, type RuleGroup } from './rules.js';
import { THRESHOLDS } from './thresholds.js';

const SIGNALS = ['spans', 'log_records', 'metric_points'] as const;

/**
 * The per-second rate of the collector's own counters of `kinds` (e.g. `receiver_refused`), every signal, as one
 * vector for `sum by`. The collector 0.162 names them `otelcol_<kind>_<signal>`, without a `_total` suffix.
 */
export function collectorRate(kinds: readonly string[], window: string): string {
  return ratesApart(
    kinds.flatMap((kind) => SIGNALS.map((signal) => `otelcol_${kind}_${signal}`)),
    window,
  );
}

/** Alerts on the telemetry pipeline: the collector, and the backends' ingestion and evaluation. */
export function pipelineGroups(): RuleGroup[] {
  return [
    {
      name: 'lookout-pipeline',
      rules: [
        alertRule({
          alert: 'CollectorRefusingData',
          expr: `sum by (job, receiver) (\n  ${collectorRate(['receiver_refused', 'receiver_failed'], '5m')}\n) > 0`,
          for: '5m',
          severity: 'ticket',
          service: 'otel-collector',
          summary: 'The collector refuses or fails telemetry on receiver {{ $labels.receiver }}.',
          description: '{{ $value | humanize }} items per second are refused or fail on receiver {{ $labels.receiver }}: the memory limiter is pushing back, or the data is malformed; senders retry, then drop.',
          dashboard: 'pipeline',
        }),
        alertRule({
          alert: 'CollectorExportFailing',
          expr: `sum by (job, exporter) (\n  ${collectorRate(['exporter_send_failed'], '5m')}\n) > 0`,
          for: '1m',
          severity: 'ticket',
          service: 'otel-collector',
          summary: 'The collector gives up sending telemetry through {{ $labels.exporter }}.',
          description: '{{ $value | humanize }} items per second are lost after every retry on exporter {{ $labels.exporter }}: its backend has been down longer than the retry budget, or rejects the data.',
          dashboard: 'pipeline',
        }),
        alertRule({
          alert: 'CollectorDroppingData',
          expr: `sum by (job, exporter) (\n  ${collectorRate(['exporter_enqueue_failed'], '5m')}\n) > 0`,
          for: '1m',
          severity: 'ticket',
          service: 'otel-collector',
          summary: 'The collector drops telemetry: the queue of {{ $labels.exporter }} is full.',
          description: '{{ $value | humanize }} items per second cannot enter the sending queue of {{ $labels.exporter }} and are dropped.',
          dashboard: 'pipeline',
        }),
        alertRule({
          alert: 'CollectorQueueFilling',
          expr: `max by (job, exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) > ${THRESHOLDS.collectorQueueRatio}`,
          for: '5m',
          severity: 'ticket',
          service: 'otel-collector',
          summary: 'The sending queue of {{ $labels.exporter }} is over half full.',
          description: 'The queue of exporter {{ $labels.exporter }} is {{ $value | humanizePercentage }} full: its backend is down or slower than the input; when it is full, data is dropped.',
          dashboard: 'pipeline',
        }),
        alertRule({
          alert: 'ScrapesFailing',
          // Flapping, not down (TargetDown) and not a restart or a start-up (a change or two): up went back and
          // forth more than four times in 15 minutes.
          expr: 'changes(up[15m]) > 4',
          for: '5m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: 'Scrapes of {{ $labels.job }} at {{ $labels.instance }} fail intermittently.',
          description: 'The scrapes of {{ $labels.job }} at {{ $labels.instance }} flipped between success and failure {{ $value }} times in 15 minutes: the target is overloaded, restarting in a loop, or too slow to answer; its graphs have gaps.',
          dashboard: 'pipeline',
        }),
        alertRule({
          alert: 'PrometheusRuleEvaluationFailing',
          expr: 'sum by (job, rule_group) (rate(prometheus_rule_evaluation_failures_total[5m])) > 0',
          for: '5m',
          severity: 'ticket',
          service: 'prometheus',
          summary: 'Prometheus fails to evaluate rules of {{ $labels.rule_group }}.',
          description: '{{ $value | humanize }} rule evaluations per second fail in {{ $labels.rule_group }}: its alerts and recordings are not computed.',
          dashboard: 'pipeline',
        }),
        alertRule({
          alert: 'PrometheusNotificationsFailing',
          expr:
            'sum by (job, alertmanager) (rate(prometheus_notifications_errors_total[5m])) > 0\n' +
            'or\nsum by (job) (rate(prometheus_notifications_dropped_total[5m])) > 0',
          for: '5m',
          severity: 'ticket',
          service: 'prometheus',
          summary: 'Prometheus cannot deliver alerts to Alertmanager.',
          description: '{{ $value | humanize }} alert notifications per second fail or are dropped on their way to Alertmanager: alerts may not reach anyone.',
          dashboard: 'pipeline',
        }),
        alertRule({
          alert: 'LokiIngestionErrors',
          expr:
            'sum by (job) (rate(loki_request_duration_seconds_count{route=~"otlp_v1_logs|loki_api_v1_push", status_code=~"5..|429"}[5m])) > 0\n' +
            'or\nsum by (job, reason) (rate(loki_discarded_samples_total[5m])) > 0',
          for: '5m',
          severity: 'ticket',
          service: 'loki',
          summary: 'Loki refuses or discards log lines.',
          description: '{{ $value | humanize }} pushes or lines per second are refused or discarded by Loki{{ with $labels.reason }} ({{ . }}){{ end }}: logs are missing.',
          dashboard: 'pipeline',
        }),
        alertRule({
          alert: 'TempoIngestionErrors',
          expr:
            'sum by (job) (rate(tempo_receiver_refused_spans[5m])) > 0\n' +
            'or\nsum by (job, reason) (rate(tempo_discarded_spans_total[5m])) > 0',
          for: '5m',
          severity: 'ticket',
          service: 'tempo',
          summary: 'Tempo refuses or discards spans.',
          description: '{{ $value | humanize }} spans per second are refused or discarded by Tempo{{ with $labels.reason }} ({{ . }}){{ end }}: traces are missing or incomplete.',
          dashboard: 'pipeline',
        }),
      ],
    },
  ];
}
