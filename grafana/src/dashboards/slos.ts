import { BigValueGraphMode } from '@grafana/grafana-foundation-sdk/common';
import { DashboardLinkBuilder, RowBuilder, type ThresholdsConfigBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { BURN_RATES, DASHBOARDS, SLOS, sloRecordingRules, WINDOWS } from '@lookout/alerts';
import { dashboardUrl, floorThresholds, lastValue, lookoutDashboard, prom, serviceLink, stat, thresholdLines, thresholds, timeseries } from '../panels.js';

type Slo = (typeof SLOS)[number];
type Severity = (typeof BURN_RATES)[number]['severity'];

/**
 * The name of one of an SLO's recorded series, checked against the recording rules the alert code generates: a
 * renamed rule fails the dashboard generation instead of leaving an empty panel.
 */
function recorded(name: string, slo: Slo = SLOS[0] as Slo): string {
  if (!sloRecordingRules(slo).some((rule) => rule.record === name)) throw new Error(`no SLO recording rule ${name}`);
  return name;
}

export const BUDGET_REMAINING = recorded('slo:period_error_budget_remaining:ratio');
const CURRENT_BURN_RATE = recorded('slo:current_burn_rate:ratio');
const ERROR_BUDGET = recorded('slo:error_budget:ratio');
const errorRatio = (window: string) => recorded(`slo:sli_error:ratio_rate${window}`);

/** A burn rate is a multiple of the sustainable rate: 14.4×. */
export const BURN_RATE_UNIT = 'suffix:×';

/** The SLI windows, then the 30-day period the budget is computed over. */
const RATIO_WINDOWS = [...WINDOWS, '30d'] as const;

/** The error budget, as the alert code rounds it (1 - objective). */
const budgetOf = (slo: Slo) => Number((1 - slo.objective).toPrecision(6));
const sel = (slo: Slo) => `{slo="${slo.name}"}`;
const percent = (ratio: number) => `${Number((ratio * 100).toPrecision(6))}%`;

/** Red once the 30-day budget is spent, orange while less than a quarter of it is left. */
export const budgetRemainingThresholds = () => floorThresholds([0, 'orange'], [0.25, 'green']);

/** The burn-rate factors of the alerts (of one severity, or all): page factors red, ticket factors orange. */
export function burnRateThresholds(severity?: Severity): ThresholdsConfigBuilder {
  const steps = BURN_RATES.filter((b) => severity === undefined || b.severity === severity)
    .map((b): [number, 'orange' | 'red'] => [b.factor, b.severity === 'page' ? 'red' : 'orange'])
    .sort((a, b) => a[0] - b[0]);
  return thresholds(...steps);
}

/** How the alerts of one severity read their burn rates, in words, for descriptions. */
export function burnRateRule(severity: Severity): string {
  return BURN_RATES.filter((b) => b.severity === severity)
    .map((b) => `both ${b.long} and ${b.short} above ${b.factor} (${b.budgetSpent})`)
    .join(', or ');
}

/** Where to go from an SLO: its own dashboard when it has one, else the Service dashboard of its service. */
function sloLink(slo: Slo): DashboardLinkBuilder {
  const own = (Object.keys(DASHBOARDS) as (keyof typeof DASHBOARDS)[]).find((key) => DASHBOARDS[key] === slo.dashboardUid);
  if (own !== undefined && own !== 'slos') {
    return new DashboardLinkBuilder(`${slo.name}: its dashboard`).url(`${dashboardUrl(own)}?\${__url_time_range}`);
  }
  return serviceLink({ service: slo.service, title: `Service dashboard: ${slo.service}` });
}

/** The row of one SLO: budget, compliance, burn rates against the alert factors, the SLI over every window. */
function sloRow(slo: Slo) {
  const budget = budgetOf(slo);
  const s = sel(slo);
  const what = `"${slo.description}" (${slo.name}, objective ${percent(slo.objective)} over 30 days)`;
  const burnRate = (window: string) => prom(`${errorRatio(window)}${s} / ${budget}`, window);
  const burnRatePanels = (['page', 'ticket'] as const).map((severity) => {
    const windows = [...new Set(BURN_RATES.filter((b) => b.severity === severity).flatMap((b) => [b.short, b.long]))];
    return timeseries(
      {
        title: `Burn rate, ${severity} alert windows`,
        unit: BURN_RATE_UNIT,
        description:
          `Is the ${slo.name} SLO burning its budget fast enough to ${severity === 'page' ? 'page' : 'open a ticket'}? ` +
          `Burn rate = error ratio / error budget (${percent(budget)}) over each window the ${severity} alert reads; 1 spends ` +
          `the budget in exactly 30 days. The alert fires on ${burnRateRule(severity)}: the lines are those factors.`,
      },
      ...windows.map(burnRate),
    )
      .thresholds(burnRateThresholds(severity))
      .thresholdsStyle(thresholdLines())
      .min(0);
  });
  return {
    row: new RowBuilder(`${slo.name}: ${percent(slo.objective)} of ${slo.service} events good over 30 days`),
    panels: [
      stat(
        {
          title: 'Error budget remaining (30 days)',
          unit: 'percentunit',
          description:
            `How much of the 30-day error budget of ${what} is left: is there room for risk (deploys, drills), or must ` +
            'reliability come first? 100% = no bad event in the period, 0% = the objective is missed. Red once spent, ' +
            'orange under a quarter.',
          height: 8,
        },
        prom(`${BUDGET_REMAINING}${s}`, slo.name),
      )
        .thresholds(budgetRemainingThresholds())
        .reduceOptions(lastValue())
        .graphMode(BigValueGraphMode.Area)
        .links([sloLink(slo)]),
      stat(
        {
          title: 'Good events over 30 days',
          unit: 'percentunit',
          description:
            `Is ${slo.name} meeting its objective over the 30-day period? The share of good events (1 - the 30-day ` +
            `error ratio), red below the objective ${percent(slo.objective)}.`,
          height: 8,
        },
        prom(`1 - ${errorRatio('30d')}${s}`, slo.name),
      )
        .thresholds(floorThresholds([slo.objective, 'green']))
        .reduceOptions(lastValue())
        .decimals(3)
        .graphMode(BigValueGraphMode.None),
      stat(
        {
          title: 'Burn rate now (1 hour)',
          unit: BURN_RATE_UNIT,
          description:
            `How fast is ${slo.name} spending its budget right now? The 1-hour error ratio over the budget ` +
            `(${percent(budget)}); 1 lasts exactly 30 days. Coloured at the alert factors: ` +
            `${BURN_RATES.map((b) => `${b.factor} (${b.severity}, ${b.long}/${b.short})`).join(', ')}.`,
          height: 8,
        },
        burnRate('1h'),
      )
        .thresholds(burnRateThresholds())
        .reduceOptions(lastValue())
        .decimals(2)
        .graphMode(BigValueGraphMode.Area),
      timeseries(
        {
          title: 'Error budget remaining over time',
          unit: 'percentunit',
          description:
            `When did ${slo.name} start spending its budget, and how fast? The 30-day budget remaining over the dashboard's ` +
            'range: a steep drop is an incident, a slow slope a chronic problem. The lines mark 0 (spent) and 25%.',
          span: 12,
        },
        prom(`${BUDGET_REMAINING}${s}`, 'budget remaining'),
      )
        .thresholds(budgetRemainingThresholds())
        .thresholdsStyle(thresholdLines())
        .links([sloLink(slo)]),
      timeseries(
        {
          title: 'SLI error ratio by window',
          unit: 'percentunit',
          description:
            `Which windows see ${slo.name} fail, and is it getting better? The share of bad events over each window the ` +
            `alerts read and over 30 days; short windows react first. The line is the error budget ${percent(budget)} ` +
            '(burn rate 1): above it the budget runs out before the 30 days.',
        },
        ...RATIO_WINDOWS.map((w) => prom(`${errorRatio(w)}${s}`, w)),
      )
        .thresholds(thresholds([budget, 'red']))
        .thresholdsStyle(thresholdLines())
        .min(0),
      ...burnRatePanels,
    ],
  };
}

/**
 * The SLOs of the shop (`SLOS` in the alert code), one row each: error budget remaining, compliance, burn rates
 * over the windows of the multiwindow, multi-burn-rate alerts with their factors drawn, and the SLI per window.
 * Every query reads the SLO recording rules (`slo:*`, label `slo`), so the panels show what the alerts evaluate.
 */
export function slosDashboard() {
  const dashboard = lookoutDashboard({
    uid: 'slos',
    title: 'Lookout / SLOs',
    description:
      'Service level objectives over 30 days: error budget remaining, burn rates against the page and ticket alert ' +
      'factors, SLI error ratios per window. Built from the SLO recording rules the alerts evaluate.',
    tags: ['slo'],
    signals: ['prometheus'],
  });
  for (const slo of SLOS) {
    const { row, panels } = sloRow(slo);
    dashboard.withRow(row);
    for (const panel of panels) dashboard.withPanel(panel);
  }
  return dashboard;
}

/** For other dashboards: the burn rate of every SLO over `window` (one of the SLI windows), by `slo`. */
export function allSlosBurnRate(window: string): string {
  return window === '5m' ? CURRENT_BURN_RATE : `${errorRatio(window)}\n/ on (slo)\n${ERROR_BUDGET}`;
}
