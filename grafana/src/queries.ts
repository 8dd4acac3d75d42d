/**
 * Every query a dashboard runs, read from its JSON (classic dashboard model, as `generate.ts` renders it), and the
 * substitution of Grafana's macros and template variables into a query. Used by the dashboard linter (lint.ts) and by
 * the live-stack test that runs each query against Prometheus, Loki and Tempo. No dependencies on purpose.
 */

export type Signal = 'prometheus' | 'loki' | 'tempo';

/**
 * How a query is run: a Prometheus/Loki `range` or `instant` query, a Loki log query (`logs`, lines rather than
 * samples), a Tempo TraceQL search or metrics query (`traceql`), Tempo's service graph (`serviceMap`, no query
 * text; Grafana reads the metrics generator's `traces_service_graph_*` series from Prometheus), or a template
 * variable's query (`variable`, e.g. `label_values(metric, label)`: see `parseVariableQuery`).
 */
export type QueryKind = 'range' | 'instant' | 'traceql' | 'serviceMap' | 'logs' | 'variable';

export interface PanelQuery {
  dashboardUid: string;
  dashboardTitle: string;
  /** The panel's title; for a template variable, `$name`. */
  panelTitle: string;
  /** The panel's type (`timeseries`, `stat`, …); `variable` for a template variable. */
  panelType: string;
  /** The title of the row the panel is in, if any. */
  row?: string;
  /** The target's refId; Grafana assigns A, B, … to targets without one, and so does this. */
  refId: string;
  signal: Signal;
  kind: QueryKind;
  /** The query text with variables and macros as written (`$__rate_interval`, `$service`): see `substitute`. */
  expr: string;
  /** The datasource UID as written, usually a variable reference such as `${prometheus}`. */
  datasourceUid: string;
  /** Hidden targets (`hide: true`) are not run by Grafana. */
  hidden: boolean;
}

/** A `{ type, uid }` datasource reference; either may be missing in hand-written JSON. */
export interface DatasourceRef {
  type?: string;
  uid?: string;
}

/** The fields of a panel the linter and the query extraction need; `raw` is the panel's JSON object. */
export interface PanelView {
  title: string;
  type: string;
  description: string;
  datasource?: DatasourceRef;
  targets: TargetView[];
  row?: string;
  raw: JsonObject;
}

export interface TargetView {
  refId: string;
  datasource?: DatasourceRef;
  raw: JsonObject;
}

export interface VariableView {
  name: string;
  type: string;
  datasource?: DatasourceRef;
  /** The variable's query as a string (an object query's `query` field). */
  query: string;
  refresh?: number;
  /** Its current value(s), else its first option, else none. */
  values: string[];
  raw: JsonObject;
}

export interface DashboardView {
  uid: string;
  title: string;
  panels: PanelView[];
  variables: VariableView[];
  raw: JsonObject;
}

export type JsonObject = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const objects = (value: unknown): JsonObject[] => (Array.isArray(value) ? value.filter(isObject) : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function datasourceRef(value: unknown): DatasourceRef | undefined {
  if (typeof value === 'string') return { uid: value }; // a pre-7.x datasource name
  if (!isObject(value)) return undefined;
  const ref: DatasourceRef = {};
  if (typeof value.type === 'string') ref.type = value.type;
  if (typeof value.uid === 'string') ref.uid = value.uid;
  return ref;
}

function currentValues(variable: JsonObject): string[] {
  const current = isObject(variable.current) ? variable.current.value : undefined;
  if (typeof current === 'string' && current !== '') return [current];
  if (Array.isArray(current)) return current.filter((v): v is string => typeof v === 'string');
  const first = objects(variable.options)[0]?.value;
  return typeof first === 'string' ? [first] : [];
}

/** The JSON of a dashboard (a parsed object, its text, or a foundation-sdk `build()` result) as a typed view. */
export function readDashboard(json: unknown): DashboardView {
  const raw: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  if (!isObject(raw)) throw new TypeError('a dashboard must be a JSON object');
  const variables = objects(isObject(raw.templating) ? raw.templating.list : undefined).map((v): VariableView => {
    const variable: VariableView = {
      name: text(v.name),
      type: text(v.type),
      query: isObject(v.query) ? text(v.query.query) : text(v.query),
      values: currentValues(v),
      raw: v,
    };
    const datasource = datasourceRef(v.datasource);
    if (datasource) variable.datasource = datasource;
    if (typeof v.refresh === 'number') variable.refresh = v.refresh;
    return variable;
  });
  const panels: PanelView[] = [];
  const add = (p: JsonObject, row: string | undefined) => {
    const panel: PanelView = {
      title: text(p.title),
      type: text(p.type),
      description: text(p.description),
      targets: objects(p.targets).map((t, i): TargetView => {
        const target: TargetView = { refId: text(t.refId) || refIdAt(i), raw: t };
        const datasource = datasourceRef(t.datasource);
        if (datasource) target.datasource = datasource;
        return target;
      }),
      raw: p,
    };
    const datasource = datasourceRef(p.datasource);
    if (datasource) panel.datasource = datasource;
    if (row !== undefined) panel.row = row;
    panels.push(panel);
  };
  // Rows: an expanded row's panels follow it at the top level, a collapsed row keeps them in its `panels`.
  let row: string | undefined;
  for (const p of objects(raw.panels)) {
    if (p.type === 'row') {
      row = text(p.title);
      add(p, undefined);
      for (const child of objects(p.panels)) add(child, row);
    } else add(p, row);
  }
  return { uid: text(raw.uid), title: text(raw.title), panels, variables, raw };
}

/** Grafana's refIds for targets without one: A … Z, then AA, AB, … */
function refIdAt(index: number): string {
  const letter = (i: number) => String.fromCharCode(65 + i);
  return index < 26 ? letter(index) : letter(Math.floor(index / 26) - 1) + letter(index % 26);
}

const SIGNALS: readonly string[] = ['prometheus', 'loki', 'tempo'] satisfies Signal[];
const isSignal = (value: string | undefined): value is Signal => value !== undefined && SIGNALS.includes(value);

/** The variable name in a datasource UID like `${prometheus}` or `$prometheus`, if it is one. */
export function variableReference(uid: string | undefined): string | undefined {
  const match = /^\$\{([A-Za-z0-9_]+)\}$|^\$([A-Za-z0-9_]+)$/.exec(uid ?? '');
  return match ? (match[1] ?? match[2]) : undefined;
}

/**
 * The plugin type of a datasource reference: its `type`, else the `query` (plugin id) of the datasource variable
 * its UID names.
 */
export function datasourceType(dashboard: DashboardView, ref: DatasourceRef | undefined): string | undefined {
  if (ref?.type !== undefined && ref.type !== '') return ref.type;
  const name = variableReference(ref?.uid);
  return dashboard.variables.find((v) => v.name === name && v.type === 'datasource')?.query;
}

function kindOf(signal: Signal, target: JsonObject, expr: string): QueryKind {
  switch (signal) {
    case 'prometheus':
      return target.instant === true && target.range !== true ? 'instant' : 'range';
    case 'loki':
      if (target.queryType === 'instant' || (target.instant === true && target.range !== true)) return 'instant';
      // A log query starts with its stream selector; a metric query with a function, aggregation or number.
      return expr.trimStart().startsWith('{') ? 'logs' : 'range';
    case 'tempo':
      return target.queryType === 'serviceMap' ? 'serviceMap' : 'traceql';
  }
}

function exprOf(signal: Signal, target: JsonObject): string {
  if (signal !== 'tempo') return text(target.expr);
  return target.queryType === 'serviceMap' ? text(target.serviceMapQuery) : text(target.query);
}

/**
 * Every query of a dashboard: each target of each panel (rows' panels included) whose datasource is Prometheus,
 * Loki or Tempo, then each query variable's query (kind `variable`). Targets of other datasources are left out.
 */
export function panelQueries(json: unknown): PanelQuery[] {
  const dashboard = readDashboard(json);
  const out: PanelQuery[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const ref = target.datasource ?? panel.datasource;
      const signal = datasourceType(dashboard, ref);
      if (!isSignal(signal)) continue;
      const expr = exprOf(signal, target.raw);
      const query: PanelQuery = {
        dashboardUid: dashboard.uid,
        dashboardTitle: dashboard.title,
        panelTitle: panel.title,
        panelType: panel.type,
        refId: target.refId,
        signal,
        kind: kindOf(signal, target.raw, expr),
        expr,
        datasourceUid: ref?.uid ?? '',
        hidden: target.raw.hide === true,
      };
      if (panel.row !== undefined) query.row = panel.row;
      out.push(query);
    }
  }
  for (const variable of dashboard.variables) {
    if (variable.type !== 'query') continue;
    const signal = datasourceType(dashboard, variable.datasource);
    if (!isSignal(signal)) continue;
    out.push({
      dashboardUid: dashboard.uid,
      dashboardTitle: dashboard.title,
      panelTitle: `$${variable.name}`,
      panelType: 'variable',
      refId: variable.name,
      signal,
      kind: 'variable',
      expr: variable.query,
      datasourceUid: variable.datasource?.uid ?? '',
      hidden: false,
    });
  }
  return out;
}

/** A Prometheus template variable's query, as Grafana's Prometheus datasource understands it. */
export type VariableQuery =
  | { fn: 'label_values'; label: string; match?: string }
  | { fn: 'label_names'; match?: string }
  | { fn: 'metrics'; regex: string }
  | { fn: 'query_result'; expr: string };

/**
 * Parses `label_values([selector,] label)`, `label_names([selector])`, `metrics(regex)` or `query_result(expr)`;
 * `undefined` for anything else (which Grafana would reject). The selector / expr is PromQL.
 */
export function parseVariableQuery(query: string): VariableQuery | undefined {
  const call = /^\s*(label_values|label_names|metrics|query_result)\s*\(([\s\S]*)\)\s*$/.exec(query);
  if (!call) return undefined;
  const args = (call[2] ?? '').trim();
  switch (call[1]) {
    case 'label_values': {
      const withMatch = /^([\s\S]+),\s*([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(args);
      if (withMatch) return { fn: 'label_values', match: (withMatch[1] ?? '').trim(), label: withMatch[2] ?? '' };
      return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(args) ? { fn: 'label_values', label: args } : undefined;
    }
    case 'label_names':
      return args === '' ? { fn: 'label_names' } : { fn: 'label_names', match: args };
    case 'metrics':
      return { fn: 'metrics', regex: args };
    default:
      return args === '' ? undefined : { fn: 'query_result', expr: args };
  }
}

/**
 * Grafana's global variables a query may use. `__auto` (Loki) is the step of a range query and `__range` for an
 * instant one; `__rate_interval` is max(`__interval` + scrape interval, 4 × scrape interval).
 */
export const BUILTIN_VARIABLES: readonly string[] = [
  '__interval',
  '__interval_ms',
  '__rate_interval',
  '__rate_interval_ms',
  '__range',
  '__range_s',
  '__range_ms',
  '__auto',
  '__from',
  '__to',
  '__dashboard',
  '__org',
  '__user',
  '__name',
  '__timezone',
];

/**
 * Values for the time macros as Grafana computes them for a time range of `rangeSeconds` ending at `toMs`:
 * `$__interval` is the step (range / `maxDataPoints`, at least the scrape interval), `$__rate_interval`
 * max(step + scrape, 4 × scrape), `$__auto` the step (use `$__range`'s value for an instant Loki query).
 */
export function macroValues(options: {
  rangeSeconds: number;
  scrapeIntervalSeconds?: number;
  maxDataPoints?: number;
  toMs?: number;
}): Record<string, string> {
  const scrape = options.scrapeIntervalSeconds ?? 15;
  const step = Math.max(scrape, Math.ceil(options.rangeSeconds / (options.maxDataPoints ?? 1000)));
  const rate = Math.max(step + scrape, 4 * scrape);
  const to = options.toMs ?? Date.now();
  return {
    __interval: `${step}s`,
    __interval_ms: String(step * 1000),
    __rate_interval: `${rate}s`,
    __rate_interval_ms: String(rate * 1000),
    __range: `${options.rangeSeconds}s`,
    __range_s: String(options.rangeSeconds),
    __range_ms: String(options.rangeSeconds * 1000),
    __auto: `${step}s`,
    __from: String(to - options.rangeSeconds * 1000),
    __to: String(to),
  };
}

/**
 * `$name`, `${name}`, `${name:format}`, `${name.field}`, `[[name]]`, `[[name:format]]`: Grafana's variable syntax.
 * `$1` (a `label_replace` replacement) is not a variable.
 */
const VARIABLE = /\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?\]\]|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\.[^:}]+)?(?::([^}]+))?\}/g;

/** The names of the variables and macros a query refers to, in order of first use. */
export function variablesIn(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(VARIABLE)) {
    const name = m[1] ?? m[2] ?? m[4];
    if (name !== undefined) names.add(name);
  }
  return [...names];
}

/** Regex metacharacters escaped for a PromQL/LogQL string (the backslash itself doubled), as Grafana does. */
const regexEscape = (value: string) => value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');

function format(values: readonly string[], fmt: string | undefined): string {
  switch (fmt) {
    case 'regex':
      return values.length === 1 ? regexEscape(values[0] ?? '') : `(${values.map(regexEscape).join('|')})`;
    case 'pipe':
      return values.join('|');
    case 'csv':
    case 'raw':
      return values.join(',');
    case 'json':
      return JSON.stringify(values.length === 1 ? values[0] : values);
    case 'doublequote':
      return values.map((v) => `"${v}"`).join(',');
    case 'singlequote':
      return values.map((v) => `'${v}'`).join(',');
    case 'text':
      return values.join(' + ');
    default:
      // Grafana's Prometheus/Loki default for a multi-value variable: a regex alternation of the escaped values.
      return values.length === 1 ? (values[0] ?? '') : `(${values.map(regexEscape).join('|')})`;
  }
}

/**
 * Replaces Grafana's macros and template variables in a query with concrete values: `values` maps a name without
 * its `$` (`__rate_interval`, `service`) to one value or several (a multi-value variable, formatted as Grafana
 * does: `(a|b)` by default, or per `${var:format}` with format regex, pipe, csv, raw, json, doublequote,
 * singlequote, text). A name without a value throws, unless `keepUnknown` leaves it as written.
 */
export function substitute(
  expr: string,
  values: Readonly<Record<string, string | readonly string[]>>,
  options: { keepUnknown?: boolean } = {},
): string {
  return expr.replace(VARIABLE, (match, dollar: string | undefined, bracket: string | undefined, bracketFmt: string | undefined, braced: string | undefined, bracedFmt: string | undefined) => {
    const name = dollar ?? bracket ?? braced ?? '';
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined) {
      if (options.keepUnknown === true) return match;
      throw new Error(`no value for variable $${name} in: ${expr}`);
    }
    return format(typeof value === 'string' ? [value] : value, bracketFmt ?? bracedFmt);
  });
}
