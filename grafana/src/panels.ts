import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  MappingType,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type Threshold,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import {
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
  type DataSourceRef,
} from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder as PromQueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { DataqueryBuilder as LokiQueryBuilder } from '@grafana/grafana-foundation-sdk/loki';
import { DataqueryBuilder as TempoQueryBuilder, SearchTableType } from '@grafana/grafana-foundation-sdk/tempo';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as LogsBuilder } from '@grafana/grafana-foundation-sdk/logs';
import { PanelBuilder as NodeGraphBuilder } from '@grafana/grafana-foundation-sdk/nodegraph';
import { DASHBOARDS } from '@lookout/alerts';

/**
 * Shared building blocks of the dashboards: every panel reads its datasource from a dashboard variable (never a
 * hard-coded UID, so a user's own Prometheus/Loki/Tempo can be picked), carries a unit and a description, and every
 * dashboard links to the others. The provisioned datasources (provisioning/datasources) are the variables' defaults.
 */

export type Signal = 'prometheus' | 'loki' | 'tempo';

/** A datasource reference through the dashboard variable of the same name. */
export const DS: Readonly<Record<Signal, DataSourceRef>> = {
  prometheus: { type: 'prometheus', uid: '${prometheus}' },
  loki: { type: 'loki', uid: '${loki}' },
  tempo: { type: 'tempo', uid: '${tempo}' },
};

const DS_LABEL: Record<Signal, string> = { prometheus: 'Prometheus', loki: 'Loki', tempo: 'Tempo' };

/** The datasource variable a dashboard needs for one signal, defaulting to the provisioned datasource. */
export function datasourceVariable(signal: Signal): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder(signal)
    .label(DS_LABEL[signal])
    .type(signal)
    .current({ selected: true, text: DS_LABEL[signal], value: signal });
}

/**
 * A Lookout dashboard: UID from the alert code's `DASHBOARDS` (alerts link to these), the datasource variables for
 * the signals it uses, a link menu to every other Lookout dashboard (keeping time and variables).
 */
export function lookoutDashboard(spec: {
  uid: keyof typeof DASHBOARDS;
  title: string;
  description: string;
  tags: string[];
  signals: Signal[];
  // eslint-disable-next-line @typescript-eslint/no-deprecated
}): DashboardBuilder {
  // The classic dashboard model, not dashboardv2: file provisioning loads it in every Grafana without feature flags.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const builder = new DashboardBuilder(spec.title)
    .uid(DASHBOARDS[spec.uid])
    .tags(['lookout', ...spec.tags])
    .description(spec.description)
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .tooltip(DashboardCursorSync.Crosshair)
    .link(
      new DashboardLinkBuilder('Lookout')
        .type(DashboardLinkType.Dashboards)
        .tags(['lookout'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true)
        .icon('external link')
        .tooltip('Every Lookout dashboard, with the same time range and variables'),
    );
  for (const signal of spec.signals) builder.withVariable(datasourceVariable(signal));
  return builder;
}

/** A link to another Lookout dashboard (by its key in `DASHBOARDS`), for panel and data links. */
export function dashboardUrl(uid: keyof typeof DASHBOARDS, query = ''): string {
  return `/d/${DASHBOARDS[uid]}${query}`;
}

/** A PromQL range query; `legend` uses Grafana's `{{label}}` syntax. */
export function prom(expr: string, legend: string, options: { exemplar?: boolean; instant?: boolean } = {}): PromQueryBuilder {
  const q = new PromQueryBuilder().datasource(DS.prometheus).expr(expr).legendFormat(legend).exemplar(options.exemplar ?? false);
  return options.instant === true ? q.instant().format('table' as never) : q.range();
}

/** A LogQL query: log lines for a logs panel, or a metric query (`count_over_time`, `rate`) for a graph. */
export function loki(expr: string, legend = ''): LokiQueryBuilder {
  return new LokiQueryBuilder().datasource(DS.loki).expr(expr).legendFormat(legend).queryType('range');
}

/** A TraceQL search shown as a table of traces. */
export function traceql(query: string, limit = 20): TempoQueryBuilder {
  return new TempoQueryBuilder().datasource(DS.tempo).queryType('traceql').query(query).limit(limit).tableType(SearchTableType.Traces);
}

/** Tempo's service graph (from the metrics generator's series in Prometheus), for a node graph panel. */
export function serviceMap(): TempoQueryBuilder {
  return new TempoQueryBuilder().datasource(DS.tempo).queryType('serviceMap');
}

/** Thresholds: green below the first step's value, then each step's colour from its value up. */
export function thresholds(...steps: [number, 'orange' | 'red'][]): ThresholdsConfigBuilder {
  const all: Threshold[] = [{ value: null, color: 'green' }, ...steps.map(([value, color]) => ({ value, color }))];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(all);
}

const legend = () => new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom);

interface PanelSpec {
  title: string;
  unit: string;
  description: string;
  /** Grid width out of 24 (default 8). */
  span?: number;
  height?: number;
}

export function timeseries(spec: PanelSpec, ...targets: PromQueryBuilder[] | LokiQueryBuilder[]): TimeseriesBuilder {
  const signal = targets[0] instanceof LokiQueryBuilder ? DS.loki : DS.prometheus;
  const panel = new TimeseriesBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(signal)
    .unit(spec.unit)
    .height(spec.height ?? 8)
    .span(spec.span ?? 8)
    .legend(legend());
  for (const target of targets) panel.withTarget(target);
  return panel;
}

export function stat(spec: PanelSpec, ...targets: PromQueryBuilder[]): StatBuilder {
  const panel = new StatBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DS.prometheus)
    .unit(spec.unit)
    .height(spec.height ?? 4)
    .span(spec.span ?? 4);
  for (const target of targets) panel.withTarget(target);
  return panel;
}

export function table(spec: PanelSpec, ...targets: PromQueryBuilder[] | TempoQueryBuilder[]): TableBuilder {
  const signal = targets[0] instanceof TempoQueryBuilder ? DS.tempo : DS.prometheus;
  const panel = new TableBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(signal)
    .unit(spec.unit)
    .height(spec.height ?? 8)
    .span(spec.span ?? 12);
  for (const target of targets) panel.withTarget(target);
  return panel;
}

export function logs(spec: Omit<PanelSpec, 'unit'>, target: LokiQueryBuilder): LogsBuilder {
  return new LogsBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DS.loki)
    .height(spec.height ?? 10)
    .span(spec.span ?? 24)
    .showTime(true)
    .wrapLogMessage(true)
    .enableLogDetails(true)
    .withTarget(target);
}

export function nodeGraph(spec: Omit<PanelSpec, 'unit'>, target: TempoQueryBuilder): NodeGraphBuilder {
  return new NodeGraphBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DS.tempo)
    .height(spec.height ?? 16)
    .span(spec.span ?? 24)
    .withTarget(target);
}

/** Thresholds where low values are bad: red below the first step, then each step's colour from its value up. */
export function floorThresholds(...steps: [number, 'orange' | 'green'][]): ThresholdsConfigBuilder {
  const all: Threshold[] = [{ value: null, color: 'red' }, ...steps.map(([value, color]) => ({ value, color }))];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(all);
}

/** Draws the thresholds of a time series as lines, so the graph shows where its alert or target lies. */
export const thresholdLines = (mode: GraphThresholdsStyleMode = GraphThresholdsStyleMode.Line) => new GraphThresholdsStyleConfigBuilder().mode(mode);

/**
 * Draws `value` as a dashed threshold line on a graph: values above it turn red (`bad: 'above'`) or, for a ratio
 * that must stay high, values below it (`bad: 'below'`).
 */
export function thresholdLine(panel: TimeseriesBuilder, value: number, bad: 'above' | 'below' = 'above'): TimeseriesBuilder {
  const steps = bad === 'above' ? thresholds([value, 'red']) : floorThresholds([value, 'green']);
  return panel.thresholds(steps).thresholdsStyle(thresholdLines(GraphThresholdsStyleMode.Dashed));
}

/** A stat's value: the latest one, so that a gap in the last scrape does not blank the panel. */
export const lastValue = () => new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

/** 1 shown as "up" in green, 0 as "down" in red. */
export const UP_DOWN: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: { '0': { text: 'down', color: 'red', index: 0 }, '1': { text: 'up', color: 'green', index: 1 } },
  },
];

/**
 * A link to the Service dashboard of `service` (by default the `job` of the series or cell it is on), keeping the
 * time range; `query` adds variables (`&var-route=...`).
 */
export function serviceLink(options: { service?: string; query?: string; title?: string } = {}): DashboardLinkBuilder {
  const service = options.service ?? '${__field.labels.job}';
  return new DashboardLinkBuilder(options.title ?? `Service dashboard of ${service}`).url(
    dashboardUrl('service', `?var-service=${service}${options.query ?? ''}&\${__url_time_range}`),
  );
}

/**
 * A link to Explore with one query on the dashboard's datasource of `signal` over the dashboard's time range. The
 * `${...}` variables stay unencoded so that Grafana substitutes them when the link is followed.
 */
export function exploreLink(title: string, signal: Signal, query: Record<string, unknown>): DashboardLinkBuilder {
  const panes = { a: { datasource: `\${${signal}}`, queries: [{ refId: 'A', datasource: DS[signal], ...query }], range: { from: '${__from}', to: '${__to}' } } };
  const encoded = encodeURIComponent(JSON.stringify(panes)).replace(/%24%7B([\w.]+)%7D/g, '$${$1}');
  return new DashboardLinkBuilder(title).url(`/explore?schemaVersion=1&panes=${encoded}`).targetBlank(true);
}
