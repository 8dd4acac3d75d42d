/**
 * The Alertmanager configuration as code. Pages and tickets go to their own receiver, info alerts nowhere, and
 * Watchdog to a receiver of its own as a dead man's switch. Both stacks deliver to the `alert-receiver` service
 * (a webhook that logs each alert); this file's URLs are compose's, and the native stack rewrites them to its
 * loopback ports. Real receivers (Slack, PagerDuty, e-mail) are documented in alerts/README.md.
 */
import { DEPENDENCY_ALERTS } from './causes.js';
import { SLOS } from './slos.js';
import { symptomAlertNames } from './symptoms.js';

export const RECEIVER_BASE_URL = 'http://alert-receiver:8090';

const webhook = (receiver: string) => ({
  webhook_configs: [{ url: `${RECEIVER_BASE_URL}/notify/${receiver}`, send_resolved: true, max_alerts: 100 }],
});

/** `alertname=~"A|B"`: one matcher for a list of alerts. */
const anyOf = (names: readonly string[]) => `alertname=~"${names.join('|')}"`;

export function alertmanagerConfig(): Record<string, unknown> {
  // What users see when Postgres is gone: every service's errors and latency, and the gateway's fast burns.
  const postgresSymptoms = [
    ...symptomAlertNames(),
    ...SLOS.filter((s) => s.service === 'gateway').map((s) => `${s.alertName}BudgetBurnFast`),
    'DatabasePoolSaturated',
  ];
  // What a broker outage causes downstream: unpublished orders, an idle consumer, late confirmations.
  const brokerSymptoms = ['OutboxLagHigh', 'QueueConsumerStalled', 'OrderFreshnessBudgetBurnFast', 'OrderFreshnessBudgetBurnSlow'];
  return {
    route: {
      receiver: 'none',
      group_by: ['alertname', 'service'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        // First, so that its own severity (info) does not send it nowhere: it proves the path end to end.
        { matchers: ['alertname="Watchdog"'], receiver: 'watchdog', group_wait: '0s', group_interval: '1m', repeat_interval: '5m' },
        { matchers: ['severity="page"'], receiver: 'pager', group_wait: '10s', repeat_interval: '1h' },
        { matchers: ['severity="ticket"'], receiver: 'ticket', repeat_interval: '12h' },
      ],
    },
    inhibit_rules: [
      // A page already says it: the same service's tickets wait until it resolves.
      { source_matchers: ['severity="page"'], target_matchers: ['severity="ticket"'], equal: ['service'] },
      // A scrape target down makes every other alert of that service noise.
      { source_matchers: ['alertname="TargetDown"'], target_matchers: ['alertname!="TargetDown"', 'alertname!="Watchdog"'], equal: ['service'] },
      // A dependency down explains the symptoms it causes in every service: one page for the cause, not one per
      // symptom (no `equal`: Postgres and the broker are shared by the whole shop).
      { source_matchers: [`alertname="${DEPENDENCY_ALERTS.postgres}"`], target_matchers: [anyOf(postgresSymptoms)] },
      { source_matchers: [`alertname="${DEPENDENCY_ALERTS.broker}"`], target_matchers: [anyOf(brokerSymptoms)] },
      { source_matchers: [`alertname="${DEPENDENCY_ALERTS.redis}"`], target_matchers: ['alertname="CacheHitRatioLow"'] },
    ],
    receivers: [
      { name: 'none' },
      { name: 'watchdog', ...webhook('watchdog') },
      { name: 'pager', ...webhook('pager') },
      { name: 'ticket', ...webhook('ticket') },
    ],
  };
}
