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
