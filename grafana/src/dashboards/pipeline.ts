import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { THRESHOLDS } from '@lookout/alerts';
import { metrics } from '@lookout/telemetry/contract';
import { exploreLink, lookoutDashboard, prom, serviceLink, stat, thresholdLine, timeseries, UP_DOWN } from '../panels.js';
import { orZero, outcome, quantile, rate, ratio } from '../promql.js';

/** The scrape jobs of the stack's own components (prometheus/prometheus.yml; the native stack uses the same). */
const JOBS = [
  ['otel-collector', 'Collector'],
  ['prometheus', 'Prometheus'],
  ['loki', 'Loki'],
  ['tempo', 'Tempo'],
  ['alertmanager', 'Alertmanager'],
] as const;
const job = (name: (typeof JOBS)[number][0]) => `job="${name}"`;
const COLLECTOR = job('otel-collector');

/**
 * The collector's signals, as its counters name them: `otelcol_<kind>_<signal>`, without a `_total` suffix in
 * collector 0.162 (alerts/src/pipeline.ts queries the same).
 */
const SIGNALS = ['spans', 'log_records', 'metric_points'] as const;
const otelcol = (kind: string, signal: string) => `otelcol_${kind}_${signal}{${COLLECTOR}}`;

/** The services' own OTLP exporters (the SDK's counters, in the telemetry contract). */
const SDK_EXPORTS = [
  ['Spans', metrics.otelSdkExporterSpanExported],
  ['Log records', metrics.otelSdkExporterLogExported],
] as const;

/**
 * The path telemetry takes: the services' SDK exporters, the collector (receivers, memory limiter, batches, sending
 * queues, exporters), then ingestion in Prometheus, Loki and Tempo, and alert delivery through Alertmanager.
 */
export function pipelineDashboard() {
  const builder = lookoutDashboard({
    uid: 'pipeline',
    title: 'Lookout / Telemetry pipeline',
    description:
      'Where telemetry is lost or delayed: the services\' exporters, the OpenTelemetry Collector\'s receivers, memory limiter and sending queues, ingestion in Prometheus, Loki and Tempo, and alert notifications.',
    tags: ['pipeline', 'otel-collector', 'prometheus', 'loki', 'tempo'],
    signals: ['prometheus'],
  });

  builder.withRow(new RowBuilder('Components'));
  for (const [name, title] of JOBS) {
    builder.withPanel(
      stat(
        {
          title,
          unit: 'none',
          description: `Is ${title} running and scrapable? Prometheus's scrape of job ${name} (the lowest instance): down means its own metrics below are missing too.`,
        },
        prom(`min(up{${job(name)}})`, title),
      ).mappings(UP_DOWN),
    );
  }
  builder.withPanel(
    stat(
      {
        title: 'Lost by the services',
        unit: 'ops',
        description: 'Do the services lose telemetry before it reaches the collector? Spans and log records per second whose export batch failed, summed over every service (TelemetryExportFailing when it lasts 10 minutes).',
      },
      prom(
        `sum(${SDK_EXPORTS.map(([, spec]) => `(sum(${rate(`${spec.name}{error_type!=""}`)}) or vector(0))`).join(' + ')})`,
        'lost',
      ),
    ),
  );

  builder.withRow(new RowBuilder('Collector: receivers and memory'));
  builder.withPanel(
    timeseries(
      {
        title: 'Accepted by receiver',
        unit: 'ops',
        description: 'Is telemetry arriving? Items per second each receiver accepted, per signal: otlp for the services\' spans and logs, prometheus for the services\' scraped metrics.',
      },
      ...SIGNALS.map((signal) => prom(`sum by (receiver) (${rate(otelcol('receiver_accepted', signal))})`, `{{receiver}} ${signal}`)),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Refused or failed by receiver',
        unit: 'ops',
        description:
          'Is the collector pushing back? Items per second refused (the memory limiter or a full pipeline: senders retry) or failed (malformed data) per receiver and signal; any for 5 minutes fires CollectorRefusingData.',
      },
      ...SIGNALS.flatMap((signal) =>
        (['refused', 'failed'] as const).map((kind) => prom(`sum by (receiver) (${rate(otelcol(`receiver_${kind}`, signal))})`, `{{receiver}} ${signal} ${kind}`)),
      ),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Memory limiter: refused',
        unit: 'ops',
        description: 'Is the collector near its memory limit? Items per second the memory limiter refused per signal (0 while memory is below the limit); senders retry them.',
      },
      ...SIGNALS.map((signal) =>
        prom(
          orZero(
            `sum by (processor) (${rate(otelcol('processor_memory_limiter_refused', signal))})`,
            `sum by (processor) (${rate(otelcol('processor_memory_limiter_accepted', signal))})`,
          ),
          `{{processor}} ${signal}`,
        ),
      ),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Collector memory',
        unit: 'bytes',
        description: 'How close is the collector to its memory limit (natively OTELCOL_MEMORY_LIMIT_MIB, 400 MiB; in compose 80% of the container limit)? Resident memory and Go heap in use; queues persist on disk, so a growing heap is batches in flight.',
      },
      prom(`max by (instance) (otelcol_process_memory_rss{${COLLECTOR}})`, '{{instance}} RSS'),
      prom(`max by (instance) (otelcol_process_runtime_heap_alloc_bytes{${COLLECTOR}})`, '{{instance}} heap'),
    ),
  );
  builder.withPanel(
    timeseries(
      { title: 'Collector CPU', unit: 'percentunit', description: 'Is the collector CPU-bound (and so slow to drain its queues)? CPU time per second of wall time (1 = one core).' },
      prom(`sum by (instance) (${rate(`otelcol_process_cpu_seconds{${COLLECTOR}}`)})`, '{{instance}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Batch size',
        unit: 'short',
        description: 'Are batches full (high load: the size trigger fires) or small (each sent when its 1 s flush timeout expires)? Median and 99th percentile of items per batch each exporter\'s sending queue sends (the collector batches there, not in a batch processor).',
      },
      ...([0.5, 0.99] as const).map((q) => prom(quantile(q, 'otelcol_exporter_queue_batch_send_size', ['exporter'], COLLECTOR), `{{exporter}} p${q * 100}`)),
    ),
  );

  builder.withRow(new RowBuilder('Collector: exporters and queues'));
  builder.withPanel(
    timeseries(
      { title: 'Sent by exporter', unit: 'ops', description: 'Does telemetry leave the collector? Items per second each exporter delivered: spans to Tempo, log records to Loki, metric points to Prometheus.' },
      ...SIGNALS.map((signal) => prom(`sum by (exporter) (${rate(otelcol('exporter_sent', signal))})`, `{{exporter}} ${signal}`)),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Failed or dropped by exporter',
        unit: 'ops',
        description:
          'Is telemetry lost on the way out? send_failed: given up after every retry (CollectorExportFailing); enqueue_failed: dropped because the sending queue was full (CollectorDroppingData). Items per second per exporter; 0 when none.',
      },
      ...SIGNALS.flatMap((signal) =>
        (['send_failed', 'enqueue_failed'] as const).map((kind) =>
          prom(
            orZero(`sum by (exporter) (${rate(otelcol(`exporter_${kind}`, signal))})`, `sum by (exporter) (${rate(otelcol('exporter_sent', signal))})`),
            `{{exporter}} ${signal} ${kind}`,
          ),
        ),
      ),
    ),
  );
  builder.withPanel(
    thresholdLine(
      timeseries(
        {
          title: 'Sending queue fill',
          unit: 'percentunit',
          description: `Is a backend down or slower than the input? Each exporter's queue size divided by its capacity; over ${THRESHOLDS.collectorQueueRatio * 100}% for 5 minutes fires CollectorQueueFilling, and a full queue drops data.`,
        },
        prom(ratio(`max by (exporter) (otelcol_exporter_queue_size{${COLLECTOR}})`, `max by (exporter) (otelcol_exporter_queue_capacity{${COLLECTOR}})`), '{{exporter}}'),
      ),
      THRESHOLDS.collectorQueueRatio,
    )
      .min(0)
      .max(1),
  );

  builder.withRow(new RowBuilder('Prometheus and Alertmanager'));
  builder.withPanel(
    timeseries(
      { title: 'Samples appended', unit: 'ops', description: 'Is Prometheus ingesting as much as usual? Samples per second appended to the head block, by type (float, histogram), remote-written and scraped alike.' },
      prom(`sum by (type) (${rate(`prometheus_tsdb_head_samples_appended_total{${job('prometheus')}}`)})`, '{{type}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      { title: 'Head series', unit: 'short', description: 'Did a label explode the cardinality? Active series in the head block; a jump after a deploy points at a new high-cardinality label.' },
      prom(`sum(prometheus_tsdb_head_series{${job('prometheus')}})`, 'series'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Metric writes by receiver and status',
        unit: 'reqps',
        description: 'Does Prometheus accept what the collector (OTLP receiver) and Tempo\'s metrics generator (remote write) send? Requests per second by handler and HTTP status: 2xx accepted, 400 rejected samples (out of order, invalid: the whole batch is dropped); the collector retries 502, 503 and 504 but gives up on a 500 (CollectorExportFailing).',
      },
      prom(`sum by (handler, code) (${rate(`prometheus_http_requests_total{${job('prometheus')}, handler=~"/api/v1/otlp/v1/metrics|/api/v1/write"}`)})`, '{{handler}} {{code}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Rule evaluation failures by group',
        unit: 'ops',
        description: 'Are alerts and SLO recordings computed? Failed rule evaluations per second per group (PrometheusRuleEvaluationFailing), against all evaluations.',
      },
      prom(`sum by (rule_group) (${rate(`prometheus_rule_evaluation_failures_total{${job('prometheus')}}`)})`, '{{rule_group}} failed'),
      prom(`sum(${rate(`prometheus_rule_evaluations_total{${job('prometheus')}}`)})`, 'all evaluations'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Alerts sent to Alertmanager',
        unit: 'ops',
        description: 'Do alerts leave Prometheus? Alerts per second sent to Alertmanager, and those that failed or were dropped on the way (PrometheusNotificationsFailing). Watchdog alone keeps "sent" above 0.',
      },
      ...(['sent', 'errors', 'dropped'] as const).map((kind) => prom(`sum(${rate(`prometheus_notifications_${kind}_total{${job('prometheus')}}`)})`, kind)),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Alertmanager notifications',
        unit: 'ops',
        description: 'Do notifications reach the receivers? Notifications per second Alertmanager attempted per integration, and those that failed by reason.',
      },
      prom(`sum by (integration) (${rate(`alertmanager_notifications_total{${job('alertmanager')}}`)})`, '{{integration}} attempted'),
      prom(`sum by (reason) (${rate(`alertmanager_notifications_failed_total{${job('alertmanager')}}`)})`, 'failed {{reason}}'),
    ),
  );

  const LOKI = job('loki');
  builder.withRow(new RowBuilder('Loki'));
  builder.withPanel(
    timeseries(
      { title: 'Log lines received', unit: 'ops', description: 'Do logs arrive in Loki? Lines per second its distributor received. Which service logs that much: the link opens the log volume per service in Explore.' },
      prom(`sum(${rate(`loki_distributor_lines_received_total{${LOKI}}`)})`, 'lines'),
    ).links([exploreLink('Log volume by service in Explore', 'loki', { expr: 'sum by (service_name) (count_over_time({service_name=~".+"}[$__auto]))', queryType: 'range' })]),
  );
  builder.withPanel(
    timeseries(
      { title: 'Log bytes received', unit: 'binBps', description: 'How much log data arrives? Uncompressed bytes per second the distributor received, structured metadata included.' },
      prom(`sum(${rate(`loki_distributor_bytes_received_total{${LOKI}}`)})`, 'bytes'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Push requests by status, and discarded lines',
        unit: 'ops',
        description: 'Does Loki refuse logs? Push requests per second by route and status (429 rate-limited, 5xx failed: LokiIngestionErrors), and lines per second discarded by reason (too old, too long, limits); 0 when none.',
      },
      prom(`sum by (route, status_code) (${rate(`loki_request_duration_seconds_count{${LOKI}, route=~"otlp_v1_logs|loki_api_v1_push"}`)})`, '{{route}} {{status_code}}'),
      prom(orZero(`sum by (reason) (${rate(`loki_discarded_samples_total{${LOKI}}`)})`, `sum(${rate(`loki_distributor_lines_received_total{${LOKI}}`)})`), 'discarded {{reason}}'),
    ),
  );

  const TEMPO = job('tempo');
  builder.withRow(new RowBuilder('Tempo'));
  builder.withPanel(
    timeseries(
      { title: 'Spans received', unit: 'ops', description: 'Do traces arrive in Tempo? Spans per second its OTLP receiver accepted, per transport, and its distributor took in.' },
      prom(`sum by (receiver, transport) (${rate(`tempo_receiver_accepted_spans{${TEMPO}}`)})`, '{{receiver}} {{transport}}'),
      prom(`sum(${rate(`tempo_distributor_spans_received_total{${TEMPO}}`)})`, 'distributor'),
    ).links([exploreLink('Span volume by service in Explore', 'prometheus', { expr: 'sum by (service) (rate(traces_spanmetrics_calls_total[$__rate_interval]))', range: true })]),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Spans refused or discarded',
        unit: 'ops',
        description: 'Does Tempo lose spans? Spans per second its receiver refused, and spans discarded by reason (rate limited, trace too large, live traces limit): TempoIngestionErrors. 0 when none.',
      },
      prom(`sum by (receiver, transport) (${rate(`tempo_receiver_refused_spans{${TEMPO}}`)})`, 'refused {{receiver}} {{transport}}'),
      prom(orZero(`sum by (reason) (${rate(`tempo_discarded_spans_total{${TEMPO}}`)})`, `sum(${rate(`tempo_distributor_spans_received_total{${TEMPO}}`)})`), 'discarded {{reason}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Metrics generator',
        unit: 'ops',
        description: 'Are the service graph and span metrics up to date? Spans per second the metrics generator processed (should match the distributor\'s); fewer means the service map and span-metric panels undercount.',
      },
      prom(`sum(${rate(`tempo_metrics_generator_spans_received_total{${TEMPO}}`)})`, 'spans processed'),
    ),
  );

  builder.withRow(new RowBuilder('The services\' exporters'));
  for (const [what, spec] of SDK_EXPORTS) {
    builder.withPanel(
      timeseries(
        {
          title: `${what} exported by outcome`,
          unit: 'ops',
          description: `Does each service get its ${what.toLowerCase()} to the collector? ${what} per second handed to the OTLP exporter, by error_type: ok, or why the batch was lost (the collector down or refusing).`,
        },
        prom(outcome(`sum by (job, error_type) (${rate(spec.name)})`), '{{job}} {{error_type}}'),
      ).dataLinks([serviceLink()]),
    );
  }
  builder.withPanel(
    timeseries(
      {
        title: 'Spans dropped before export',
        unit: 'ops',
        description: 'Do services produce spans faster than they can export them? Spans per second dropped because the batch span processor\'s queue was full (OTEL_BSP_MAX_QUEUE_SIZE).',
      },
      prom(`sum by (job) (${rate(metrics.otelSdkProcessorSpanDropped.name)})`, '{{job}}'),
    ).dataLinks([serviceLink()]),
  );

  return builder;
}
