import { dashboardUrl, runbookUrl, type AlertingRule, type RecordingRule, type RuleGroup } from './rules.js';

/**
 * A service level objective over 30 days, as the SRE workbook and Sloth shape it: an SLI given as error events over
 * all events, each a PromQL expression of a range window.
 */
export interface Slo {
  /** `gateway-availability`: the `slo` label of every rule of this SLO. */
  readonly name: string;
  /** Alert name stem: `GatewayAvailability` gives `GatewayAvailabilityBudgetBurnFast` / `...Slow`. */
  readonly alertName: string;
  readonly service: string;
  /** Share of good events, e.g. 0.999. */
  readonly objective: number;
  /** What the SLO promises, in words, for summaries and runbooks. */
  readonly description: string;
  /** Rate of bad events over `window` (a PromQL range like `5m`). */
  readonly errors: (window: string) => string;
  /** Rate of all events over `window`. */
  readonly total: (window: string) => string;
  readonly dashboardUid: string;
}

/** The SLI windows the alerts need (and the 30-day period, computed from the 5m one). */
export const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
export type Window = (typeof WINDOWS)[number];

/**
 * Multiwindow, multi-burn-rate alerts (SRE workbook, chapter 5): a pair fires when both its long and short windows
 * burn the budget faster than `factor` times the sustainable rate; the short window makes it resolve quickly.
 */
export const BURN_RATES: readonly { severity: 'page' | 'ticket'; long: Window; short: Window; factor: number; budgetSpent: string }[] = [
  { severity: 'page', long: '1h', short: '5m', factor: 14.4, budgetSpent: '2% of the 30-day budget in 1 hour' },
  { severity: 'page', long: '6h', short: '30m', factor: 6, budgetSpent: '5% of the 30-day budget in 6 hours' },
  { severity: 'ticket', long: '1d', short: '2h', factor: 3, budgetSpent: '10% of the 30-day budget in 1 day' },
  { severity: 'ticket', long: '3d', short: '6h', factor: 1, budgetSpent: '10% of the 30-day budget in 3 days' },
];

const round = (n: number) => Number(n.toPrecision(6));

/** The selector of one SLO's recorded series. */
const sel = (slo: Slo) => `{slo="${slo.name}"}`;

/**
 * The recording rules of one SLO. No error series yet counts as zero errors; the ratio divides by the total only
 * where it is above zero, so an idle service records nothing (no NaN that an alert or a graph would guard against).
 */
export function sloRecordingRules(slo: Slo): RecordingRule[] {
  const labels = { slo: slo.name, service: slo.service };
  const budget = round(1 - slo.objective);
  return [
    ...WINDOWS.map((w) => ({
      record: `slo:sli_error:ratio_rate${w}`,
      expr: `(\n  (${slo.errors(w)})\n  or vector(0)\n)\n/\n(${slo.total(w)} > 0)`,
      labels,
    })),
    {
      record: 'slo:sli_error:ratio_rate30d',
      expr: `sum_over_time(slo:sli_error:ratio_rate5m${sel(slo)}[30d])\n/ ignoring (__name__)\ncount_over_time(slo:sli_error:ratio_rate5m${sel(slo)}[30d])`,
      labels,
    },
    { record: 'slo:objective:ratio', expr: `vector(${slo.objective})`, labels },
    { record: 'slo:error_budget:ratio', expr: `vector(${budget})`, labels },
    {
      record: 'slo:current_burn_rate:ratio',
      expr: `slo:sli_error:ratio_rate5m${sel(slo)} / ${budget}`,
      labels,
    },
    {
      record: 'slo:period_error_budget_remaining:ratio',
      expr: `1 - slo:sli_error:ratio_rate30d${sel(slo)} / ${budget}`,
      labels,
    },
  ];
}

/** The page (fast burn) and ticket (slow burn) alerts of one SLO. No `for:`: the short window is the debounce. */
export function sloAlerts(slo: Slo): AlertingRule[] {
  const budget = round(1 - slo.objective);
  return (['page', 'ticket'] as const).map((severity) => {
    const pairs = BURN_RATES.filter((b) => b.severity === severity);
    const alert = `${slo.alertName}BudgetBurn${severity === 'page' ? 'Fast' : 'Slow'}`;
    return {
      alert,
      expr: pairs
        .map(
          (b) =>
            `(\n  slo:sli_error:ratio_rate${b.long}${sel(slo)} > ${round(b.factor * budget)}\n  and\n  slo:sli_error:ratio_rate${b.short}${sel(slo)} > ${round(b.factor * budget)}\n)`,
        )
        .join('\nor\n'),
      labels: { severity, service: slo.service, slo: slo.name },
      annotations: {
        summary: `${slo.service}: the ${slo.name} SLO is burning its error budget ${severity === 'page' ? 'fast' : 'steadily'}.`,
        description:
          `Objective over 30 days: ${slo.description}. {{ $value | humanizePercentage }} of events are failing it ` +
          `over the alert's long window, more than ${pairs.map((p) => `${p.factor}x the budget (${p.budgetSpent})`).join(' or ')}.`,
        runbook_url: runbookUrl(alert),
        dashboard_url: dashboardUrl(slo.dashboardUid),
      },
    };
  });
}

/**
 * One group per SLO, its recordings first, then its alerts: rules of a group run in order, so an alert always sees
 * the SLI of the same evaluation (groups run concurrently and would see the previous one, or the current one).
 */
export function sloGroups(slos: readonly Slo[]): RuleGroup[] {
  return slos.map((slo) => ({ name: `slo-${slo.name}`, rules: [...sloRecordingRules(slo), ...sloAlerts(slo)] }));
}
