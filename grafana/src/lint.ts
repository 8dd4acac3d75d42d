import { parser as logqlParser } from '@grafana/lezer-logql';
import { parser as traceqlParser } from '@grafana/lezer-traceql';
import { allMetrics } from '@lookout/telemetry/contract';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import {
  BUILTIN_VARIABLES,
  datasourceType,
  parseVariableQuery,
  readDashboard,
  substitute,
  variableReference,
  variablesIn,
  type DashboardView,
  type DatasourceRef,
  type JsonObject,
  type PanelView,
  type TargetView,
} from './queries.js';

/**
 * A dashboard linter: grafana/dashboard-linter's rules (it does not build from its Go module, so they are ported
 * here) plus Lookout's conventions. Queries are parsed offline with the Lezer grammars Grafana's own editors use.
 *
 * Ported from dashboard-linter:
 * - template-datasource: every datasource a panel uses is a datasource variable of the dashboard (one per signal,
 *   named after it, rather than dashboard-linter's single `$datasource`);
 * - template-label-promql: a Prometheus query variable is `label_values`/`label_names`/`metrics`/`query_result`
 *   around valid PromQL;
 * - template-on-time-change-reload: query variables refresh on time-range change (`refresh: 2`);
 * - panel-datasource: panels and targets name their datasource through a variable (`${prometheus}`), never a UID;
 * - panel-title-description: every panel has a title and a description (a row: a title);
 * - panel-units: a valid Grafana unit on every panel that shows numbers (see NO_UNIT for those without);
 * - panel-no-targets: every panel that queries has at least one target;
 * - target-promql / target-logql: targets parse (after macros and variables are replaced);
 * - target-rate-interval: rate-like functions (RATE_FUNCTIONS) use `$__rate_interval` (or `$__range` for a value
 *   over the whole range), never a fixed window nor `$__interval`;
 * - target-logql-auto: Loki range aggregations use `$__auto` (or `$__range`);
 * - target-counter-agg: counters appear only inside rate/irate/increase/resets (see COUNTER_CONSUMERS).
 * Not ported: template-job / template-instance and target-job / target-instance (Lookout's dashboards select
 * services with their own `service` variable where they need one), target-required-matchers, uneditable.
 *
 * Lookout's own: TraceQL parses; every variable a query uses is defined (or one of Grafana's globals); dashboard
 * UIDs are unique; every `/d/<uid>` link (dashboard links, panel links, data links, text) and every alert's
 * `dashboard_url` leads to an existing dashboard; ratio panels (percentunit/percent) guard their divisions against
 * NaN (0/0 on an idle service); panels whose title names a target (SLO, objective) show thresholds.
 */

type Tree = ReturnType<typeof promqlParser.parse>;
type SyntaxNode = Tree['topNode'];
type Parser = Pick<typeof promqlParser, 'parse'>;

/** Panel types without queries. */
const NO_TARGETS = new Set(['row', 'text', 'news', 'dashlist', 'alertlist', 'annolist', 'welcome']);

/**
 * Panel types where a unit means nothing: rows and text; log lines (logs); a graph of nodes and edges whose
 * fields carry their own units (nodeGraph); traces. A table whose targets are all TraceQL searches (a table of
 * traces: IDs, names, start times, durations typed by the datasource) is exempt too. A unit set on any of them
 * must still be valid.
 */
const NO_UNIT = new Set([...NO_TARGETS, 'logs', 'nodeGraph', 'traces']);

/** Grafana's unit IDs (packages/grafana-data/src/valueFormats/categories.ts, as dashboard-linter lists them). */
const UNITS = new Set(
  [
    'none string short percent percentunit humidity dB hex0x hex sci locale pixel',
    'accMS2 accFS2 accG degree radian grad arcmin arcsec areaM2 areaF2 areaMI2',
    'flops mflops gflops tflops pflops eflops zflops yflops',
    'ppm conppb conngm3 conngNm3 conμgm3 conμgNm3 conmgm3 conmgNm3 congm3 congNm3 conmgdL conmmolL',
    'currencyUSD currencyGBP currencyEUR currencyJPY currencyRUB currencyUAH currencyBRL currencyDKK currencyISK',
    'currencyNOK currencySEK currencyCZK currencyCHF currencyPLN currencyBTC currencymBTC currencyμBTC currencyZAR',
    'currencyINR currencyKRW currencyIDR currencyPHP currencyVND',
    'bytes decbytes bits decbits kbytes deckbytes mbytes decmbytes gbytes decgbytes tbytes dectbytes pbytes decpbytes',
    'pps binBps Bps binbps bps KiBs Kibits KBs Kbits MiBs Mibits MBs Mbits GiBs Gibits GBs Gbits TiBs Tibits TBs',
    'Tbits PiBs Pibits PBs Pbits',
    'dateTimeAsIso dateTimeAsIsoNoDateIfToday dateTimeAsUS dateTimeAsUSNoDateIfToday dateTimeAsLocal',
    'dateTimeAsLocalNoDateIfToday dateTimeAsSystem dateTimeFromNow',
    'watt kwatt megwatt gwatt mwatt Wm2 voltamp kvoltamp voltampreact kvoltampreact watth watthperkg kwatth kwattm',
    'amph kamph mamph joule ev amp kamp mamp volt kvolt mvolt dBm ohm kohm Mohm farad µfarad nfarad pfarad ffarad',
    'henry mhenry µhenry lumens flowgpm flowcms flowcfs flowcfm litreh flowlpm flowmlpm lux',
    'forceNm forcekNm forceN forcekN Hs KHs MHs GHs THs PHs EHs massmg massg masslb masskg masst',
    'lengthmm lengthin lengthft lengthm lengthkm lengthmi',
    'pressurembar pressurebar pressurekbar pressurepa pressurehpa pressurekpa pressurehg pressurepsi',
    'radbq radci radgy radrad radsv radmsv radusv radrem radexpckg radr radsvh radmsvh radusvh',
    'rotrpm rothz rotrads rotdegs celsius fahrenheit kelvin',
    'hertz ns µs ms s m h d dtdurationms dtdurations dthms dtdhms timeticks clockms clocks',
    // Throughput, with the units Grafana added after dashboard-linter's list (events, messages, records, rows).
    'cps ops reqps rps wps iops eps mps recps rowsps cpm opm rpm wpm epm mpm recpm rowspm',
    'velocityms velocitykmh velocitymph velocityknot mlitre litre m3 Nm3 dm3 gallons bool bool_yes_no bool_on_off',
  ].flatMap((line) => line.split(' ')),
);
/** Grafana's custom units: `suffix:/s`, `prefix:$`, `si:B`, `count:{request}`, `currency:€`, `time:HH:mm`. */
const CUSTOM_UNIT = /^(suffix|prefix|si|count|currency|time):./;

/** Functions over a window that should follow Grafana's `$__rate_interval`. */
const RATE_FUNCTIONS = new Set(['rate', 'irate', 'increase', 'delta', 'idelta', 'deriv']);
/**
 * Where a counter may appear: inside these functions, or these value-independent ones (is there a series, when
 * was it sampled, how many series). Anything else (a bare counter, `sum(x_total)`, `x_total > 0`) shows a number
 * that only grows and resets on restart.
 */
const COUNTER_CONSUMERS = new Set(['rate', 'irate', 'increase', 'resets', 'absent', 'absent_over_time', 'present_over_time', 'timestamp']);
const COUNTER_AGGREGATIONS = new Set(['count', 'group']);
/** Nodes between a selector and the function that consumes it. */
const TRANSPARENT = new Set(['MatrixSelector', 'SubqueryExpr', 'OffsetExpr', 'FunctionCallBody', 'ParenExpr', 'StepInvariantExpr']);

const gaugeNames = new Set(allMetrics.filter((m) => m.type === 'gauge').map((m) => m.name));
const counterNames = new Set(
  allMetrics.flatMap((m) => (m.type === 'counter' ? [m.name] : m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_count`, `${m.name}_sum`] : [])),
);
/**
 * Counters without a `_total` suffix: the collector's own item counters (collector 0.162, see
 * alerts/src/pipeline.ts) and postgres-exporter 0.11's pg_stat_database counters.
 */
const UNSUFFIXED_COUNTER =
  /^otelcol_(receiver_(accepted|refused|failed)|exporter_(sent|send_failed|enqueue_failed)|processor_(incoming|outgoing))_|^pg_stat_database_(xact_commit|xact_rollback|blks_read|blks_hit|tup_returned|tup_fetched|tup_inserted|tup_updated|tup_deleted|conflicts|temp_files|temp_bytes|deadlocks|blk_read_time|blk_write_time)$/;

/** A counter: a contract counter (or a histogram's bucket/count/sum), else any `_total` not a contract gauge. */
export function isCounter(metric: string): boolean {
  if (counterNames.has(metric) || UNSUFFIXED_COUNTER.test(metric)) return true;
  return metric.endsWith('_total') && !gaugeNames.has(metric);
}

/**
 * Values the linter substitutes for Grafana's macros: unusual durations, so that a window that is the macro can
 * be told from a fixed one after parsing.
 */
const MACROS: Readonly<Record<string, string>> = {
  __rate_interval: '3333s',
  __interval: '3334s',
  __auto: '3335s',
  __range: '3336s',
  __rate_interval_ms: '3333000',
  __interval_ms: '3334000',
  __range_s: '3336',
  __range_ms: '3336000',
  __from: '1700000000000',
  __to: '1700003336000',
  __dashboard: 'lint',
  __org: '1',
  __user: 'lint',
  __name: 'lint',
  __timezone: 'utc',
};
const MACRO_OF = new Map(Object.entries(MACROS).map(([name, value]) => [value, `$${name}`]));
const shown = (duration: string) => MACRO_OF.get(duration) ?? duration;

/** The first parse error of a query (later ones mostly follow from it): where, and the text there. */
function parseErrors(parser: Parser, query: string): string[] {
  const errors: string[] = [];
  parser.parse(query).iterate({
    enter(node) {
      if (errors.length > 0) return false;
      if (!node.type.isError) return undefined;
      const near = query.slice(Math.max(0, node.from - 15), node.to + 15).replace(/\s+/g, ' ');
      errors.push(node.from >= query.trimEnd().length ? 'unexpected end of query' : `at ${node.from} near "${near}"`);
      return false;
    },
  });
  return errors;
}

function descendants(node: SyntaxNode, name: string, out: SyntaxNode[] = []): SyntaxNode[] {
  if (node.name === name) out.push(node);
  for (let child = node.firstChild; child; child = child.nextSibling) descendants(child, name, out);
  return out;
}

const unquote = (literal: string) => literal.replace(/^["'`]|["'`]$/g, '');

/** The metric name of a VectorSelector: its identifier, or a `{__name__="…"}` matcher. */
function metricName(selector: SyntaxNode, expr: string): string | undefined {
  const identifier = selector.getChild('Identifier');
  if (identifier) return expr.slice(identifier.from, identifier.to);
  for (const matcher of selector.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
    const label = matcher.getChild('LabelName');
    const value = matcher.getChild('StringLiteral');
    const op = matcher.getChild('MatchOp')?.firstChild?.name;
    if (label && value && op === 'EqlSingle' && expr.slice(label.from, label.to) === '__name__') return unquote(expr.slice(value.from, value.to));
  }
  return undefined;
}

/** The name of a FunctionCall (`rate`) or AggregateExpr (`sum`). */
function callName(node: SyntaxNode, expr: string): string {
  const id = node.getChild('FunctionIdentifier') ?? node.getChild('AggregateOp');
  return id ? expr.slice(id.from, id.to) : '';
}

/** The nearest ancestor that is not a selector wrapper (matrix, subquery, offset, parentheses, call body). */
function consumer(node: SyntaxNode): SyntaxNode | null {
  let parent = node.parent;
  while (parent && TRANSPARENT.has(parent.name)) parent = parent.parent;
  return parent;
}

const COMPARISONS = new Set(['Gtr', 'Gte', 'Lss', 'Lte', 'Eql', 'Neq']);
/** The operator of a BinaryExpr: the node after its left operand (`Div`, `Gtr`, …). */
const operator = (binary: SyntaxNode) => binary.firstChild?.nextSibling?.name ?? '';
/** A comparison without `bool` drops the series for which it is false, NaN included. */
const filters = (node: SyntaxNode) => node.name === 'BinaryExpr' && COMPARISONS.has(operator(node)) && !node.getChild('BoolModifier');

/** A division whose divisor can be 0 turns an idle service into NaN unless the divisor or the result is filtered. */
function unguardedDivisions(tree: Tree, expr: string): string[] {
  const out: string[] = [];
  for (const binary of descendants(tree.topNode, 'BinaryExpr')) {
    if (operator(binary) !== 'Div') continue;
    const divisor = binary.lastChild;
    if (!divisor) continue;
    const divisorGuarded =
      divisor.name === 'NumberDurationLiteral' ||
      descendants(divisor, 'BinaryExpr').some(filters) ||
      descendants(divisor, 'FunctionCall').some((f) => ['clamp_min', 'clamp'].includes(callName(f, expr)));
    let resultFiltered = false;
    for (let up = binary.parent; up; up = up.parent) if (filters(up)) resultFiltered = true;
    if (!divisorGuarded && !resultFiltered) out.push(expr.slice(binary.from, binary.to).replace(/\s+/g, ' '));
  }
  return out;
}

function promqlProblems(expr: string, options: { ratio: boolean }): string[] {
  const errors = parseErrors(promqlParser, expr);
  if (errors.length > 0) return errors.map((e) => `PromQL does not parse (${e}): ${expr}`);
  const tree = promqlParser.parse(expr);
  const problems: string[] = [];
  for (const selector of descendants(tree.topNode, 'VectorSelector')) {
    const name = metricName(selector, expr);
    if (name === undefined || !isCounter(name)) continue;
    const parent = consumer(selector);
    const ok =
      parent !== null &&
      ((parent.name === 'FunctionCall' && COUNTER_CONSUMERS.has(callName(parent, expr))) ||
        (parent.name === 'AggregateExpr' && COUNTER_AGGREGATIONS.has(callName(parent, expr))));
    if (!ok) problems.push(`counter ${name} outside rate/irate/increase/resets`);
  }
  for (const node of [...descendants(tree.topNode, 'MatrixSelector'), ...descendants(tree.topNode, 'SubqueryExpr')]) {
    const fn = consumer(node);
    if (fn?.name !== 'FunctionCall' || !RATE_FUNCTIONS.has(callName(fn, expr))) continue;
    const duration = node.getChild('DurationExpr');
    const window = duration ? expr.slice(duration.from, duration.to) : '';
    if (window !== MACROS.__rate_interval && window !== MACROS.__range) {
      problems.push(`${callName(fn, expr)}() over [${shown(window)}]: use [$__rate_interval] (or [$__range])`);
    }
  }
  if (options.ratio) {
    for (const division of unguardedDivisions(tree, expr)) {
      problems.push(`division without a NaN guard (idle services give 0/0; filter the divisor with \`> 0\` or clamp_min): ${division}`);
    }
  }
  return problems;
}

function logqlProblems(expr: string): string[] {
  const errors = parseErrors(logqlParser, expr);
  if (errors.length > 0) return errors.map((e) => `LogQL does not parse (${e}): ${expr}`);
  const problems: string[] = [];
  const tree = logqlParser.parse(expr);
  for (const range of descendants(tree.topNode, 'Range')) {
    const duration = range.getChild('Duration');
    const window = duration ? expr.slice(duration.from, duration.to) : '';
    if (window !== MACROS.__auto && window !== MACROS.__range) problems.push(`LogQL range [${shown(window)}]: use [$__auto] (or [$__range])`);
  }
  return problems;
}

function traceqlProblems(expr: string): string[] {
  return parseErrors(traceqlParser, expr).map((e) => `TraceQL does not parse (${e}): ${expr}`);
}

export interface LintContext {
  /** Every dashboard UID links may lead to; by default only the dashboard's own. */
  dashboardUids?: ReadonlySet<string>;
}

/** `/d/<uid>` links in a URL or text. */
const DASHBOARD_LINK = /(?:^|[\s("'=\]]|https?:\/\/[^/\s]+)\/d\/([A-Za-z0-9_-]+)/g;

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) strings(v, out);
  return out;
}

export function linkedDashboardUids(value: unknown): string[] {
  return strings(value).flatMap((s) => [...s.matchAll(DASHBOARD_LINK)].map((m) => m[1] ?? ''));
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function unitOf(panel: PanelView): string | undefined {
  const fieldConfig = isObject(panel.raw.fieldConfig) ? panel.raw.fieldConfig : {};
  const defaults = isObject(fieldConfig.defaults) ? fieldConfig.defaults : {};
  return typeof defaults.unit === 'string' && defaults.unit !== '' ? defaults.unit : undefined;
}

function overrideUnits(panel: PanelView): string[] {
  const fieldConfig = isObject(panel.raw.fieldConfig) ? panel.raw.fieldConfig : {};
  const overrides = Array.isArray(fieldConfig.overrides) ? fieldConfig.overrides.filter(isObject) : [];
  return overrides.flatMap((o) => (Array.isArray(o.properties) ? o.properties.filter(isObject) : [])).flatMap((p) => (p.id === 'unit' && typeof p.value === 'string' ? [p.value] : []));
}

function thresholdSteps(panel: PanelView): number {
  const fieldConfig = isObject(panel.raw.fieldConfig) ? panel.raw.fieldConfig : {};
  const defaults = isObject(fieldConfig.defaults) ? fieldConfig.defaults : {};
  const thresholds = isObject(defaults.thresholds) ? defaults.thresholds : {};
  return Array.isArray(thresholds.steps) ? thresholds.steps.length : 0;
}

const validUnit = (unit: string) => UNITS.has(unit) || CUSTOM_UNIT.test(unit);
const TARGET_TITLE = /\b(target|objective|SLOs?)\b/i;

/** Values for every variable of the dashboard: its current value, else a placeholder word. */
function variableValues(dashboard: DashboardView): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = { ...MACROS };
  for (const v of dashboard.variables) {
    const usable = v.values.filter((value) => value !== '' && !value.startsWith('$__all'));
    values[v.name] = v.type === 'datasource' ? v.name : usable.length > 0 ? usable : 'lint';
  }
  return values;
}

/**
 * Problems with one dashboard, each as "dashboard / panel: message" (or "dashboard: message" for the dashboard
 * itself, "dashboard / $variable: message" for a template variable). An empty list means it passes.
 */
export function lintDashboard(json: unknown, context: LintContext = {}): string[] {
  const dashboard = readDashboard(json);
  const name = dashboard.title || dashboard.uid || 'untitled dashboard';
  const problems: string[] = [];
  const report = (where: string | undefined, message: string) => problems.push(where === undefined ? `${name}: ${message}` : `${name} / ${where}: ${message}`);

  if (dashboard.uid === '') report(undefined, 'no uid');
  if (dashboard.title === '') report(undefined, 'no title');

  const datasourceVariables = new Map(dashboard.variables.filter((v) => v.type === 'datasource').map((v) => [v.name, v.query]));
  const defined = new Set([...dashboard.variables.map((v) => v.name), ...BUILTIN_VARIABLES]);
  const values = variableValues(dashboard);

  /** Problems with a datasource reference; its signal when it is one. */
  const checkDatasource = (where: string, ref: DatasourceRef | undefined): string | undefined => {
    if (ref?.uid === undefined || ref.uid === '') {
      report(where, 'no datasource: use the dashboard\'s datasource variable, e.g. ${prometheus}');
      return undefined;
    }
    const variable = variableReference(ref.uid);
    if (variable === undefined) {
      report(where, `datasource uid "${ref.uid}" is hard-coded: use a datasource variable, e.g. \${${ref.type ?? 'prometheus'}}`);
      return ref.type;
    }
    const plugin = datasourceVariables.get(variable);
    if (plugin === undefined) report(where, `datasource variable $${variable} is not defined as a variable of type datasource`);
    else if (ref.type !== undefined && ref.type !== '' && ref.type !== plugin) report(where, `datasource type ${ref.type} but $${variable} selects ${plugin}`);
    return datasourceType(dashboard, ref);
  };

  /** Substitutes variables (reporting undefined ones) and returns the query to parse. */
  const expand = (where: string, expr: string): string => {
    const all: Record<string, string | string[]> = { ...values };
    for (const variable of variablesIn(expr)) {
      if (!defined.has(variable)) {
        report(where, `uses $${variable}, which is not a variable of this dashboard`);
        all[variable] = 'lint';
      }
    }
    return substitute(expr, all);
  };

  const checkQuery = (where: string, signal: string | undefined, target: TargetView, ratio: boolean) => {
    const raw = target.raw;
    const field = (key: string) => (typeof raw[key] === 'string' ? raw[key] : '');
    if (signal === 'prometheus' || signal === 'loki') {
      const expr = field('expr');
      const language = signal === 'prometheus' ? 'PromQL' : 'LogQL';
      if (expr.trim() === '') report(where, `empty ${language} query`);
      else for (const p of signal === 'prometheus' ? promqlProblems(expand(where, expr), { ratio }) : logqlProblems(expand(where, expr))) report(where, p);
    } else if (signal === 'tempo') {
      if (raw.queryType === 'serviceMap') return;
      const query = field('query');
      if (query.trim() === '') report(where, 'empty TraceQL query');
      else for (const p of traceqlProblems(expand(where, query))) report(where, p);
    } else report(where, `datasource type ${signal ?? 'unknown'} is none of prometheus, loki, tempo`);
  };

  for (const v of dashboard.variables) {
    const where = `$${v.name}`;
    if (v.name === '') report(where, 'variable without a name');
    if (v.type === 'datasource' && v.query === '') report(where, 'datasource variable without a plugin type (query)');
    if (v.type !== 'query') continue;
    const signal = checkDatasource(where, v.datasource);
    if (v.refresh !== 2) report(where, `refresh is ${v.refresh ?? 'unset'}: set 2 (on time range change) so values follow the time range`);
    if (signal !== 'prometheus') continue;
    const parsed = parseVariableQuery(v.query);
    if (!parsed) {
      report(where, `not a Prometheus variable query (label_values, label_names, metrics, query_result): ${v.query}`);
      continue;
    }
    const promql = parsed.fn === 'query_result' ? parsed.expr : parsed.fn === 'metrics' ? undefined : parsed.match;
    if (promql === undefined) continue;
    for (const e of parseErrors(promqlParser, expand(where, promql))) report(where, `PromQL does not parse (${e}): ${v.query}`);
  }

  for (const panel of dashboard.panels) {
    const where = panel.title || `untitled ${panel.type || 'panel'}${panel.row === undefined ? '' : ` in row ${panel.row}`}`;
    if (panel.title.trim() === '') report(where, 'no title');
    if (panel.type === 'row') continue;
    if (panel.description.trim() === '') report(where, 'no description');
    const unit = unitOf(panel);
    const signals = panel.targets.map((t) => datasourceType(dashboard, t.datasource ?? panel.datasource));
    const tableOfTraces = panel.type === 'table' && signals.length > 0 && signals.every((s) => s === 'tempo');
    if (unit === undefined && !NO_UNIT.has(panel.type) && !tableOfTraces) report(where, 'no unit');
    for (const u of [...(unit === undefined ? [] : [unit]), ...overrideUnits(panel)]) if (!validUnit(u)) report(where, `unit "${u}" is not a Grafana unit`);
    if (TARGET_TITLE.test(panel.title) && thresholdSteps(panel) < 2) report(where, 'the title names a target, but the panel has no thresholds to show it');
    if (NO_TARGETS.has(panel.type)) continue;
    if (panel.targets.length === 0) report(where, 'no targets');
    const mixed = panel.datasource?.uid === '-- Mixed --';
    if (!mixed) checkDatasource(where, panel.datasource);
    const ratio = unit === 'percentunit' || unit === 'percent';
    for (const target of panel.targets) {
      const at = `${where} [${target.refId}]`;
      const signal = target.datasource || mixed ? checkDatasource(at, target.datasource) : datasourceType(dashboard, panel.datasource);
      checkQuery(at, signal, target, ratio);
    }
  }

  const known = context.dashboardUids ?? new Set([dashboard.uid]);
  for (const panel of [undefined, ...dashboard.panels]) {
    // A collapsed row holds its panels: they are checked on their own.
    const source = panel === undefined ? { links: dashboard.raw.links, description: dashboard.raw.description } : { ...panel.raw, panels: undefined };
    for (const uid of new Set(linkedDashboardUids(source))) {
      if (!known.has(uid)) report(panel?.title, `links to /d/${uid}, which is no dashboard`);
    }
  }
  return [...new Set(problems)];
}

/** Lints several dashboards together: each one, their UIDs unique, their links between them. */
export function lintDashboards(jsons: Iterable<unknown>): string[] {
  const dashboards = [...jsons].map((json) => readDashboard(json));
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const d of dashboards) {
    const other = seen.get(d.uid);
    if (other !== undefined) problems.push(`${d.title}: uid ${d.uid} is also the uid of ${other}`);
    seen.set(d.uid, d.title);
  }
  const dashboardUids = new Set(seen.keys());
  for (const d of dashboards) problems.push(...lintDashboard(d.raw, { dashboardUids }));
  return problems;
}

/**
 * Alerts whose `dashboard_url` annotation leads to no dashboard. `ruleFiles` maps a file name to its parsed
 * content (`{ groups: [{ rules: [...] }] }`, as prometheus/rules/*.yml or `ruleFiles()` of @lookout/alerts).
 */
export function lintAlertDashboardLinks(ruleFiles: Readonly<Record<string, unknown>>, dashboardUids: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const [file, content] of Object.entries(ruleFiles)) {
    const groups = isObject(content) && Array.isArray(content.groups) ? content.groups.filter(isObject) : [];
    for (const rule of groups.flatMap((g) => (Array.isArray(g.rules) ? g.rules.filter(isObject) : []))) {
      const url = isObject(rule.annotations) ? rule.annotations.dashboard_url : undefined;
      if (typeof url !== 'string') continue;
      const uids = linkedDashboardUids(url);
      if (uids.length === 0) problems.push(`${file} / ${String(rule.alert)}: dashboard_url ${url} is not a /d/<uid> link`);
      for (const uid of uids) if (!dashboardUids.has(uid)) problems.push(`${file} / ${String(rule.alert)}: dashboard_url ${url} leads to no dashboard`);
    }
  }
  return problems;
}
