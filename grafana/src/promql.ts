import { metrics, runtimeMetrics } from '@lookout/telemetry/contract';

/**
 * PromQL the dashboards share: the metric names several of them read, and builders that keep the conventions the
 * lint test enforces (`$__rate_interval` in every rate, no NaN or Inf on an idle service) in one place.
 */

/** The HTTP server duration histogram: its `_count` is the request rate of the RED panels. */
export const HTTP = metrics.httpServerRequestDuration.name;

/**
 * A runtime metric's name (prom-client's default metrics), checked against the telemetry contract: a typo or a
 * metric dropped from the contract fails the generation instead of leaving an empty panel.
 */
export function runtimeMetric(name: string): string {
  if (!runtimeMetrics.some((metric) => metric.name === name)) throw new Error(`${name} is not a runtime metric of the telemetry contract`);
  return name;
}

/** `rate(<selector>[$__rate_interval])`: Grafana picks a window that always holds at least two scrapes. */
export const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;

/** `num / den`, without NaN or Inf when `den` is 0 (an idle service): those points are dropped instead. */
export const ratio = (num: string, den: string) => `(${num}) / ((${den}) > 0)`;

/**
 * `expr`, or else zeros carrying the labels of `like`: for failure counters that have no series until the first
 * failure (an idle or healthy system then shows a flat 0, not "No data").
 */
export const orZero = (expr: string, like: string) => `(${expr}) or (${like}) * 0`;

/** Names the empty `error_type` of successes `ok`, so that legends read "ok" rather than nothing. */
export const outcome = (expr: string) => `label_replace(${expr}, "error_type", "ok", "error_type", "")`;

/**
 * The `q` quantile of a histogram by `by`, only where it observed something in the window (histogram_quantile of
 * all-zero buckets is NaN). `guard` says where that check goes: on the quantile, or on the buckets before it. Both
 * give the same series; the RED panels have always guarded the buckets, and keep doing so to leave their JSON as
 * it is.
 */
export function quantile(q: number, histogram: string, by: readonly string[], selector = '', guard: 'quantile' | 'buckets' = 'quantile'): string {
  const sel = selector === '' ? '' : `{${selector}}`;
  const on = by.join(', ');
  const buckets = `sum by (${[...by, 'le'].join(', ')}) (${rate(`${histogram}_bucket${sel}`)})`;
  const observed = `and on (${on}) (sum by (${on}) (${rate(`${histogram}_count${sel}`)}) > 0)`;
  return guard === 'buckets' ? `histogram_quantile(${q}, ${buckets}\n  ${observed})` : `histogram_quantile(${q}, ${buckets}) ${observed}`;
}

/**
 * The share of HTTP requests answered with a 5xx, by `by`: 0 (not absent) for a route without errors, nothing (not
 * NaN) for an idle one.
 */
export function errorRatio(by: readonly string[], selector: string): string {
  const total = `sum by (${by.join(', ')}) (${rate(`${HTTP}_count{${selector}}`)})`;
  const errors = `sum by (${by.join(', ')}) (${rate(`${HTTP}_count{${selector}, http_response_status_code=~"5.."}`)})`;
  return `(\n  ${errors}\n  or\n  ${total} * 0\n)\n/\n(${total} > 0)`;
}
