import { BigValueGraphMode, BigValueTextMode, TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import { DashboardLinkBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { THRESHOLDS } from '@lookout/alerts';
import { dashboardUrl, DS, lastValue, lookoutDashboard, prom, serviceLink, stat, table, thresholdLines, thresholds, timeseries } from '../panels.js';
import { errorRatio, HTTP, quantile, rate } from '../promql.js';
import { allSlosBurnRate, BUDGET_REMAINING, BURN_RATE_UNIT, budgetRemainingThresholds, burnRateRule, burnRateThresholds } from './slos.js';

const SERVICE = 'job=~"$service"';
const ROUTE = '&var-route=${__field.labels.http_route:percentencode}';

/** The overview's links have always read "Service dashboard: <job>"; keeping the wording keeps its JSON as it is. */
const toService = (query?: string) => serviceLink({ query, title: 'Service dashboard: ${__field.labels.job}' });

const slosLink = () => new DashboardLinkBuilder('SLOs dashboard').url(`${dashboardUrl('slos')}?\${__url_time_range}`);

/** Every SLO's burn rate over one window, coloured at the alert factors, linking to the SLOs dashboard. */
function burnRateStat(title: string, window: string, description: string) {
  return stat({ title, unit: BURN_RATE_UNIT, description, span: 8, height: 6 }, prom(allSlosBurnRate(window), '{{slo}}'))
    .thresholds(burnRateThresholds())
    .reduceOptions(lastValue())
    .textMode(BigValueTextMode.ValueAndName)
    .graphMode(BigValueGraphMode.Area)
    .decimals(2)
    .links([slosLink()]);
}

/**
 * RED overview of the shop's services: request rate, 5xx ratio and latency per service, the SLOs' budgets and burn
 * rates, the alerts firing now, then per route. Series link to the Service dashboard of their job; latency panels
 * carry exemplars, which open the request's trace in Tempo.
 */
export function redOverview() {
  return lookoutDashboard({
    uid: 'overview',
    title: 'Lookout / Services RED overview',
    description:
      'Rate, errors and duration of every instrumented service, SLO status and firing alerts: where an incident starts. ' +
      'Click a series to open its Service dashboard.',
    tags: ['red', 'services'],
    signals: ['prometheus'],
  })
    .withVariable(
      new QueryVariableBuilder('service')
        .label('Service')
        .datasource(DS.prometheus)
        .query(`label_values(${HTTP}_count, job)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    )
    .withRow(new RowBuilder('Per service'))
    .withPanel(
      timeseries(
        {
          title: 'Request rate',
          unit: 'reqps',
          description:
            'Is traffic normal? Requests per second each service handles (probes and /metrics excluded): a drop means ' +
            'clients cannot reach it or upstream stopped calling, a spike explains saturation. Click a series for its Service dashboard.',
        },
        prom(`sum by (job) (${rate(`${HTTP}_count{${SERVICE}}`)})`, '{{job}}'),
      ).dataLinks([toService()]),
    )
    .withPanel(
      timeseries(
        {
          title: 'Error ratio (5xx)',
          unit: 'percentunit',
          description:
            'Which service fails its requests? Share answered with a 5xx (4xx are client mistakes and do not count). ' +
            `The line is the HttpErrorRatioHigh alert threshold (${THRESHOLDS.httpErrorRatio * 100}%). The first service to fail ` +
            'is usually the cause, the gateway shows the impact.',
        },
        prom(errorRatio(['job'], SERVICE), '{{job}}'),
      )
        .thresholds(thresholds([THRESHOLDS.httpErrorRatio, 'red']))
        .thresholdsStyle(thresholdLines())
        .min(0)
        .dataLinks([toService()]),
    )
    .withPanel(
      timeseries(
        {
          title: 'Latency p99 (with exemplars)',
          unit: 's',
          description:
            'Which service is slow? 99th (and 50th) percentile of request duration; the line is the HttpLatencyHigh alert ' +
            `threshold (${THRESHOLDS.httpLatencyP99 * 1000} ms). The dots are exemplars: click one to open that request's trace.`,
        },
        prom(quantile(0.99, HTTP, ['job'], SERVICE, 'buckets'), '{{job}} p99', { exemplar: true }),
        prom(quantile(0.5, HTTP, ['job'], SERVICE, 'buckets'), '{{job}} p50'),
      )
        .thresholds(thresholds([THRESHOLDS.httpLatencyP99, 'red']))
        .thresholdsStyle(thresholdLines())
        .dataLinks([toService()]),
    )
    .withRow(new RowBuilder('SLO status'))
    .withPanel(
      burnRateStat(
        'SLO burn rate, last 5 minutes',
        '5m',
        'Is an SLO burning its error budget right now? The 5-minute error ratio over the budget, per SLO; 1 spends the ' +
          `budget in exactly 30 days. Page alerts: ${burnRateRule('page')}; ticket alerts: ${burnRateRule('ticket')}.`,
      ),
    )
    .withPanel(
      burnRateStat(
        'SLO burn rate, last hour',
        '1h',
        'Has an SLO been burning its budget for a while? The 1-hour error ratio over the budget, per SLO, coloured at ' +
          `the alert factors. The page alert fires on ${burnRateRule('page')}.`,
      ),
    )
    .withPanel(
      stat(
        {
          title: 'Error budget remaining (30 days)',
          unit: 'percentunit',
          description:
            'How much failure can each SLO still afford this period? 100% = no bad event in 30 days, 0% = objective ' +
            'missed (red), orange under a quarter. Open the SLOs dashboard for the windows and the trend.',
          span: 8,
          height: 6,
        },
        prom(BUDGET_REMAINING, '{{slo}}'),
      )
        .thresholds(budgetRemainingThresholds())
        .reduceOptions(lastValue())
        .textMode(BigValueTextMode.ValueAndName)
        .graphMode(BigValueGraphMode.None)
        .links([slosLink()]),
    )
    .withRow(new RowBuilder('Firing alerts'))
    .withPanel(
      table(
        {
          title: 'Firing alerts',
          unit: 'none',
          description:
            'What has Prometheus already detected? Every alert firing now (the always-firing Watchdog left out), page ' +
            'severity first; empty when all is well. Click a service to open its Service dashboard.',
          span: 24,
          height: 7,
        },
        prom('ALERTS{alertstate="firing", alertname!="Watchdog"}', '', { instant: true }),
      )
        .noValue('No alert firing')
        .transformations([
          {
            id: 'organize',
            options: {
              excludeByName: { Time: true, __name__: true, alertstate: true, Value: true },
              indexByName: { alertname: 0, severity: 1, service: 2, job: 3, slo: 4 },
              renameByName: {},
            },
          },
        ])
        .sortBy([new TableSortByFieldStateBuilder().displayName('severity')])
        .overrideByName('service', [
          {
            id: 'links',
            value: [
              {
                title: 'Service dashboard: ${__value.text}',
                url: `${dashboardUrl('service', '?var-service=${__value.text}')}&\${__url_time_range}`,
              },
            ],
          },
        ]),
    )
    .withRow(new RowBuilder('Per route'))
    .withPanel(
      timeseries(
        {
          title: 'Request rate by route',
          unit: 'reqps',
          description:
            'Which routes carry the traffic, and did one change? Requests per second per route template (never raw paths, ' +
            'so the series stay few). Click a series for the Service dashboard filtered to that route.',
        },
        prom(`sum by (job, http_route) (${rate(`${HTTP}_count{${SERVICE}}`)})`, '{{job}} {{http_route}}'),
      ).dataLinks([toService(ROUTE)]),
    )
    .withPanel(
      timeseries(
        {
          title: 'Errors by route and status',
          unit: 'reqps',
          description:
            'Which route fails, and how? Responses with status >= 400 per route and code: 4xx are client mistakes ' +
            '(or rate limiting, 429), 5xx our own (502/504 from the gateway are upstream failures).',
        },
        prom(
          `sum by (job, http_route, http_response_status_code) (${rate(`${HTTP}_count{${SERVICE}, http_response_status_code=~"[45].."}`)})`,
          '{{job}} {{http_route}} {{http_response_status_code}}',
        ),
      ).dataLinks([toService(ROUTE)]),
    )
    .withPanel(
      timeseries(
        {
          title: 'Latency p99 by route',
          unit: 's',
          description:
            'Which route is slow? 99th percentile of request duration per route, with exemplars linking to traces; the ' +
            `line is the HttpLatencyHigh threshold (${THRESHOLDS.httpLatencyP99 * 1000} ms).`,
        },
        prom(quantile(0.99, HTTP, ['job', 'http_route'], SERVICE, 'buckets'), '{{job}} {{http_route}}', { exemplar: true }),
      )
        .thresholds(thresholds([THRESHOLDS.httpLatencyP99, 'red']))
        .thresholdsStyle(thresholdLines())
        .dataLinks([toService(ROUTE)]),
    );
}
