/** Prometheus rule files as data: what the generator writes and the tests read. */

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: 'page' | 'ticket' | 'info'; service: string } & Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string; dashboard_url: string };
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: (RecordingRule | AlertingRule)[];
}

export interface RuleFile {
  groups: RuleGroup[];
}

export const isAlert = (rule: RecordingRule | AlertingRule): rule is AlertingRule => 'alert' in rule;

/** An alert's runbook: `docs/runbooks/<AlertName>.md`, a path in this repository (a test checks it exists). */
export const runbookUrl = (alert: string) => `docs/runbooks/${alert}.md`;

/** A Grafana dashboard link by UID, relative to GRAFANA_URL in Alertmanager templates. */
export const dashboardUrl = (uid: string, query = '') => `/d/${uid}${query}`;

/**
 * The dashboards alerts link to, by UID. The dashboards issue (10) builds those not yet in grafana/dashboards; a
 * test lists which are still missing and fails on any other UID.
 */
export const DASHBOARDS = {
  overview: 'lookout-red-overview',
  service: 'lookout-service',
  slos: 'lookout-slos',
  dependencies: 'lookout-dependencies',
  runtime: 'lookout-nodejs-runtime',
  pipeline: 'lookout-telemetry-pipeline',
  serviceGraph: 'lookout-service-graph',
} as const;

/** An alert that follows the conventions: runbook `docs/runbooks/<alert>.md`, a dashboard link by UID. */
export function alertRule(spec: {
  alert: string;
  expr: string;
  for: string;
  severity: AlertingRule['labels']['severity'];
  /** The service the alert is about, or a template of a label of the series (`{{ $labels.job }}`). */
  service: string;
  summary: string;
  /** Must show the current value (`{{ $value }}`, humanized as fits). */
  description: string;
  dashboard: keyof typeof DASHBOARDS;
  /** The dashboard's query string, e.g. `?var-service={{ $labels.job }}`. */
  dashboardQuery?: string;
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
      dashboard_url: dashboardUrl(DASHBOARDS[spec.dashboard], spec.dashboardQuery),
    },
  };
}

/**
 * The per-second rates of several counters as one vector for a `sum by`. Not a `{__name__=~"a|b"}` selector:
 * rate() drops the name, and two counters with the same labels then collide ("vector cannot contain metrics with
 * the same labelset"); nor `a + b`, which is empty while either has no series. Each rate is labelled with its
 * counter's name (`counter`) so that they stay apart until the sum.
 */
export function ratesApart(selectors: readonly string[], window: string): string {
  return selectors
    .map((selector) => {
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(selector)?.[0] ?? selector;
      return `label_replace(rate(${selector}[${window}]), "counter", "${name}", "", "")`;
    })
    .join('\n  or ');
}
