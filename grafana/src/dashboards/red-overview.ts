import { DashboardBuilder, DashboardCursorSync, QueryVariableBuilder, RowBuilder, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import { LegendDisplayMode, LegendPlacement, VizLegendOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { metrics } from '@lookout/telemetry/contract';
import { PROMETHEUS } from '../datasources.js';

const HTTP = metrics.httpServerRequestDuration.name;
const SERVICE = 'job=~"$service"';

function query(expr: string, legend: string, exemplar = false): DataqueryBuilder {
  return new DataqueryBuilder().datasource(PROMETHEUS).expr(expr).legendFormat(legend).exemplar(exemplar).range();
}

function timeseries(title: string, unit: string, description: string, ...targets: DataqueryBuilder[]): TimeseriesBuilder {
  const panel = new TimeseriesBuilder()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .unit(unit)
    .height(8)
    .span(8)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom));
  for (const target of targets) panel.withTarget(target);
  return panel;
}

/**
 * RED overview of the shop's services: request rate, error ratio and latency per service, then per route for the
 * selected services. Latency panels carry exemplars, which open the request's trace in Tempo.
 */
export function redOverview() {
  // The classic dashboard model, not dashboardv2: file provisioning loads it in every Grafana without feature flags.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  return new DashboardBuilder('Lookout / Services RED overview')
    .uid('lookout-red-overview')
    .tags(['lookout', 'red', 'services'])
    .description('Rate, errors and duration of every instrumented service, from prom-client histograms with exemplars.')
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(
      new QueryVariableBuilder('service')
        .label('Service')
        .datasource(PROMETHEUS)
        .query(`label_values(${HTTP}_count, job)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true),
    )
    .withRow(new RowBuilder('Per service'))
    .withPanel(
      timeseries(
        'Request rate',
        'reqps',
        'Requests per second handled by each service (probes and /metrics excluded).',
        query(`sum by (job) (rate(${HTTP}_count{${SERVICE}}[$__rate_interval]))`, '{{job}}'),
      ),
    )
    .withPanel(
      timeseries(
        'Error ratio (5xx)',
        'percentunit',
        'Share of requests answered with a 5xx status. 4xx are client mistakes and do not count.',
        query(
          `sum by (job) (rate(${HTTP}_count{${SERVICE}, http_response_status_code=~"5.."}[$__rate_interval]))` +
            ` / sum by (job) (rate(${HTTP}_count{${SERVICE}}[$__rate_interval]))`,
          '{{job}}',
        ),
      ),
    )
    .withPanel(
      timeseries(
        'Latency p99 (with exemplars)',
        's',
        '99th percentile of request duration; the dots are exemplars linking to the trace of one request.',
        query(`histogram_quantile(0.99, sum by (job, le) (rate(${HTTP}_bucket{${SERVICE}}[$__rate_interval])))`, '{{job}} p99', true),
        query(`histogram_quantile(0.50, sum by (job, le) (rate(${HTTP}_bucket{${SERVICE}}[$__rate_interval])))`, '{{job}} p50'),
      ),
    )
    .withRow(new RowBuilder('Per route'))
    .withPanel(
      timeseries(
        'Request rate by route',
        'reqps',
        'Route templates, never raw paths, so the series stay few.',
        query(`sum by (job, http_route) (rate(${HTTP}_count{${SERVICE}}[$__rate_interval]))`, '{{job}} {{http_route}}'),
      ),
    )
    .withPanel(
      timeseries(
        'Errors by route and status',
        'reqps',
        'Responses with status >= 400 per route; 4xx show client mistakes, 5xx our own.',
        query(
          `sum by (job, http_route, http_response_status_code) (rate(${HTTP}_count{${SERVICE}, http_response_status_code=~"[45].."}[$__rate_interval]))`,
          '{{job}} {{http_route}} {{http_response_status_code}}',
        ),
      ),
    )
    .withPanel(
      timeseries(
        'Latency p99 by route',
        's',
        '99th percentile of request duration per route.',
        query(`histogram_quantile(0.99, sum by (job, http_route, le) (rate(${HTTP}_bucket{${SERVICE}}[$__rate_interval])))`, '{{job}} {{http_route}}', true),
      ),
    );
}
