import { metrics } from '@lookout/telemetry/contract';
import { alertRule, type RuleGroup } from './rules.js';
import { THRESHOLDS } from './thresholds.js';

const HTTP = metrics.httpServerRequestDuration.name;
/** Requests per second below which a service is too quiet for a ratio or a percentile to mean anything. */
const MIN_RATE = THRESHOLDS.minRequestRate;
const requests = `sum by (job) (rate(${HTTP}_count[5m]))`;

/** What every service's users feel, from its RED metrics: the SLOs page for the gateway, these ticket per service. */
export function symptomGroups(): RuleGroup[] {
  return [
    {
      name: 'lookout-symptoms',
      rules: [
        alertRule({
          alert: 'HttpErrorRatioHigh',
          expr: `sum by (job) (rate(${HTTP}_count{http_response_status_code=~"5.."}[5m]))\n/\n(${requests} > ${MIN_RATE})\n> ${THRESHOLDS.httpErrorRatio}`,
          for: '3m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }} answers over 5% of its requests with a server error.',
          description: '{{ $value | humanizePercentage }} of the requests {{ $labels.job }} served over 5 minutes ended in 5xx (3 minutes in a row).',
          dashboard: 'service',
          dashboardQuery: '?var-service={{ $labels.job }}',
        }),
        alertRule({
          alert: 'HttpLatencyHigh',
          expr: `histogram_quantile(0.99, sum by (job, le) (rate(${HTTP}_bucket[5m])))\n> ${THRESHOLDS.httpLatencyP99}\nand on (job)\n${requests} > ${MIN_RATE}`,
          for: '3m',
          severity: 'ticket',
          service: '{{ $labels.job }}',
          summary: '{{ $labels.job }}: the slowest 1% of requests take over 500 ms.',
          description: 'The 99th percentile latency of {{ $labels.job }} has been {{ $value | humanizeDuration }} over 5 minutes.',
          dashboard: 'service',
          dashboardQuery: '?var-service={{ $labels.job }}',
        }),
      ],
    },
  ];
}

/** The names of the symptom alerts, for the inhibitions of the dependency alerts that cause them. */
export const symptomAlertNames = (): string[] => symptomGroups().flatMap((g) => g.rules.flatMap((r) => ('alert' in r ? [r.alert] : [])));
