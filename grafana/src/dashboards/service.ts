import { BigValueGraphMode, BigValueTextMode } from '@grafana/grafana-foundation-sdk/common';
import { DashboardLinkBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { THRESHOLDS } from '@lookout/alerts';
import { metrics } from '@lookout/telemetry/contract';
import {
  dashboardUrl,
  DS,
  floorThresholds,
  lastValue,
  logs,
  loki,
  lookoutDashboard,
  prom,
  stat,
  table,
  thresholdLines,
  thresholds,
  timeseries,
  traceql,
  UP_DOWN,
} from '../panels.js';
import { errorRatio, HTTP, quantile, rate, runtimeMetric } from '../promql.js';

const m = metrics;
/** Every series of the selected service; the RED panels also keep to the selected routes. */
const JOB = 'job="$service"';
const ROUTES = `${JOB}, http_route=~"$route"`;

const PROCESS_START = runtimeMetric('process_start_time_seconds');

/** The TraceQL duration of a "slow" span: the gateway latency SLO's threshold (300 ms). */
const SLOW = '300ms';

const link = (title: string, url: string) => new DashboardLinkBuilder(title).url(url);
const dependenciesLink = () => link('Dependencies dashboard', `${dashboardUrl('dependencies')}?\${__url_time_range}`);

/**
 * One service in depth, for the incident that its alert (or the overview) pointed to: RED by route, its
 * dependencies as the service sees them, its instances, its logs and its slow and failed traces.
 */
export function serviceDashboard() {
  return lookoutDashboard({
    uid: 'service',
    title: 'Lookout / Service',
    description:
      'One service: RED metrics by route, its dependencies (health checks, database, pool, cache), instances and ' +
      'restarts, logs and slow or failed traces. Alerts about a service link here with the service selected.',
    tags: ['red', 'services'],
    signals: ['prometheus', 'loki', 'tempo'],
  })
    .withVariable(
      new QueryVariableBuilder('service')
        .label('Service')
        .datasource(DS.prometheus)
        .query(`label_values(${HTTP}_count, job)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        // The service that emits every kind of metric this dashboard shows (HTTP, database, pool, cache).
        .current({ selected: true, text: 'catalog', value: 'catalog' }),
    )
    .withVariable(
      new QueryVariableBuilder('route')
        .label('Route')
        .datasource(DS.prometheus)
        .query(`label_values(${HTTP}_count{${JOB}}, http_route)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    )
    .withRow(new RowBuilder('RED: rate, errors, duration of $service'))
    .withPanel(
      timeseries(
        {
          title: 'Request rate by route',
          unit: 'reqps',
          description:
            'Is $service getting its usual traffic, and on which routes? Requests per second per route template (probes ' +
            'and /metrics excluded). A drop to zero means its callers cannot reach it.',
        },
        prom(`sum by (http_route) (${rate(`${HTTP}_count{${ROUTES}}`)})`, '{{http_route}}'),
      ),
    )
    .withPanel(
      timeseries(
        {
          title: 'Error ratio (5xx) by route',
          unit: 'percentunit',
          description:
            'Which routes of $service fail? Share of requests answered with a 5xx, per route (0 while none fails). The ' +
            `line is the HttpErrorRatioHigh alert threshold (${THRESHOLDS.httpErrorRatio * 100}%).`,
        },
        prom(errorRatio(['http_route'], ROUTES), '{{http_route}}'),
      )
        .thresholds(thresholds([THRESHOLDS.httpErrorRatio, 'red']))
        .thresholdsStyle(thresholdLines())
        .min(0),
    )
    .withPanel(
      timeseries(
        {
          title: 'Responses by status code',
          unit: 'reqps',
          description:
            'What does $service answer? Responses per second by status code: 5xx are its own failures (502/504 from the ' +
            'gateway: an upstream failed), 4xx client mistakes, 429 rate limiting, 499 clients that gave up.',
        },
        prom(
          `sum by (http_response_status_code) (${rate(`${HTTP}_count{${ROUTES}}`)})`,
          '{{http_response_status_code}}',
        ),
      ),
    )
    .withPanel(
      timeseries(
        {
          title: 'Latency p99 by route (with exemplars)',
          unit: 's',
          description:
            'Are the slowest requests of $service too slow, and on which route? 99th percentile of request duration; ' +
            `the line is the HttpLatencyHigh alert threshold (${THRESHOLDS.httpLatencyP99 * 1000} ms). Click an exemplar dot to ` +
            'open the trace of that request.',
          span: 12,
        },
        prom(quantile(0.99, HTTP, ['http_route'], ROUTES, 'buckets'), '{{http_route}} p99', { exemplar: true }),
      )
        .thresholds(thresholds([THRESHOLDS.httpLatencyP99, 'red']))
        .thresholdsStyle(thresholdLines()),
    )
    .withPanel(
      timeseries(
        {
          title: 'Latency p50 by route (with exemplars)',
          unit: 's',
          description:
            'Is $service slow for everyone, or only in the tail? Median request duration per route: when it rises with ' +
            'the p99, every request got slower (a dependency, CPU); when only the p99 rises, a few requests are stuck.',
          span: 12,
        },
        prom(quantile(0.5, HTTP, ['http_route'], ROUTES, 'buckets'), '{{http_route}} p50', { exemplar: true }),
      ),
    )
    .withRow(new RowBuilder('Dependencies of $service'))
    .withPanel(
      stat(
        {
          title: 'Dependency health checks',
          unit: 'none',
          description:
            'Can $service reach what it depends on? Its background health check of each dependency (every 10 s, the same ' +
            'as /readyz), the worst instance: down means requests needing it fail. Every shop service reports these.',
          span: 6,
          height: 8,
        },
        prom(`min by (dependency_name) (${m.dependencyUp.name}{${JOB}})`, '{{dependency_name}}'),
      )
        .thresholds(floorThresholds([1, 'green']))
        .mappings(UP_DOWN)
        .reduceOptions(lastValue())
        .textMode(BigValueTextMode.ValueAndName)
        .graphMode(BigValueGraphMode.None)
        .links([dependenciesLink()]),
    )
    .withPanel(
      timeseries(
        {
          title: 'Database operation latency p99',
          unit: 's',
          description:
            'Is the database what makes $service slow? 99th percentile of its Postgres operations by logical operation, ' +
            'with exemplars to their traces. Empty for a service without Postgres (the gateway).',
          span: 6,
        },
        prom(quantile(0.99, m.dbClientOperationDuration.name, ['db_operation_name'], JOB, 'buckets'), '{{db_operation_name}}', {
          exemplar: true,
        }),
      ).links([dependenciesLink()]),
    )
    .withPanel(
      timeseries(
        {
          title: 'Database connection pool',
          unit: 'short',
          description:
            'Is $service waiting for database connections? Connections used and idle (summed over instances) against the ' +
            'pool maximum, and requests pending for a connection: pending above 0 for minutes is pool saturation ' +
            '(DatabasePoolSaturated). Empty for a service without Postgres.',
          span: 6,
        },
        prom(
          `sum by (db_client_connection_pool_name, db_client_connection_state) (${m.dbClientConnectionCount.name}{${JOB}})`,
          '{{db_client_connection_pool_name}} {{db_client_connection_state}}',
        ),
        prom(`sum by (db_client_connection_pool_name) (${m.dbClientConnectionMax.name}{${JOB}})`, '{{db_client_connection_pool_name}} max'),
        prom(
          `sum by (db_client_connection_pool_name) (${m.dbClientConnectionPendingRequests.name}{${JOB}})`,
          '{{db_client_connection_pool_name}} pending',
        ),
      )
        .min(0)
        .links([dependenciesLink()]),
    )
    .withPanel(
      timeseries(
        {
          title: 'Cache hit ratio',
          unit: 'percentunit',
          description:
            'Is the cache absorbing the reads of $service, or is Postgres taking them? Share of cache look-ups that hit; ' +
            `the line is the CacheHitRatioLow alert threshold (${THRESHOLDS.cacheHitRatio * 100}%). Only the catalog has a cache.`,
          span: 6,
        },
        prom(
          `sum by (cache_name) (${rate(`${m.cacheRequests.name}{${JOB}, cache_result="hit"}`)})\n` +
            `/\n(sum by (cache_name) (${rate(`${m.cacheRequests.name}{${JOB}}`)}) > 0)`,
          '{{cache_name}}',
        ),
      )
        .thresholds(floorThresholds([THRESHOLDS.cacheHitRatio, 'green']))
        .thresholdsStyle(thresholdLines())
        .min(0)
        .max(1)
        .links([dependenciesLink()]),
    )
    .withRow(new RowBuilder('Instances of $service'))
    .withPanel(
      stat(
        {
          title: 'Instances up',
          unit: 'none',
          description:
            'How many processes of $service are serving? Instances whose last scrape succeeded, out of those scraped: ' +
            'fewer up than scraped means one is down or unreachable (TargetDown).',
          height: 8,
        },
        prom(`sum(up{${JOB}})`, 'up'),
        prom(`count(up{${JOB}})`, 'scraped'),
      )
        .reduceOptions(lastValue())
        .textMode(BigValueTextMode.ValueAndName)
        .graphMode(BigValueGraphMode.Area),
    )
    .withPanel(
      stat(
        {
          title: 'Process starts in range',
          unit: 'none',
          description:
            'Has $service restarted (crash, OOM, deploy) in the dashboard time range? Processes of $service whose start ' +
            'time falls inside the range; a restart loop shows as a growing count.',
          height: 8,
        },
        prom(
          `count(max by (service_instance_id) (max_over_time(${PROCESS_START}{${JOB}}[$__range])) > time() - $__range_s) or vector(0)`,
          'starts',
        ),
      )
        .thresholds(thresholds([1, 'orange']))
        .reduceOptions(lastValue())
        .graphMode(BigValueGraphMode.None),
    )
    .withPanel(
      timeseries(
        {
          title: 'Scrape up by instance',
          unit: 'none',
          description:
            'Which instance of $service is down, and since when? 1 while the collector scrapes the instance, 0 when it fails.',
        },
        prom(`up{${JOB}}`, '{{instance}}'),
      )
        .min(0)
        .max(1),
    )
    .withPanel(
      timeseries(
        {
          title: 'Uptime by instance',
          unit: 's',
          description:
            'When did each instance of $service last start? Time since its process started: a drop to zero is a restart, ' +
            'a saw-tooth a crash loop. Open the Node.js runtime dashboard for memory and event-loop causes.',
        },
        prom(`time() - max by (instance) (${PROCESS_START}{${JOB}})`, '{{instance}}'),
      ).links([link('Node.js runtime dashboard', `${dashboardUrl('runtime', '?var-service=$service')}&\${__url_time_range}`)]),
    )
    .withRow(new RowBuilder('Logs of $service'))
    .withPanel(
      timeseries(
        {
          title: 'Log volume by level',
          unit: 'short',
          description:
            'Is $service logging more errors or warnings than usual, and since when? Log records per interval by detected ' +
            'level (from the OTLP severity). Failed requests (5xx) are always logged at warn or above.',
          span: 24,
          height: 6,
        },
        loki(`sum by (detected_level) (count_over_time({service_name="$service"}[$__auto]))`, '{{detected_level}}'),
      ),
    )
    .withPanel(
      logs(
        {
          title: 'Logs',
          description:
            'What does $service say? Its log records, newest first, including one `request` access-log line per request ' +
            '(route, status, duration). Expand a line for its trace_id: the link opens the trace in Tempo.',
          height: 12,
        },
        loki('{service_name="$service"}'),
      ),
    )
    .withRow(new RowBuilder('Traces of $service'))
    .withPanel(
      table(
        {
          title: `Slow spans (over ${SLOW})`,
          unit: 'ms',
          description:
            `Which requests of $service were slow, and where did the time go? Traces with a span of $service over ${SLOW} ` +
            '(the gateway latency SLO threshold); open one to see which span (database, upstream, cache) took the time.',
        },
        traceql(`{ resource.service.name = "$service" && duration > ${SLOW} }`),
      ),
    )
    .withPanel(
      table(
        {
          title: 'Failed spans',
          unit: 'ms',
          description:
            'Which requests of $service failed, and why? Traces with a span of $service whose status is error; the span ' +
            'events and attributes carry the exception. Empty while nothing fails, which on a healthy stack is expected.',
        },
        traceql(`{ resource.service.name = "$service" && status = error }`),
      ),
    );
}
