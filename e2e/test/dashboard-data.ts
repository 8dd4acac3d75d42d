import { macroValues, panelQueries, parseVariableQuery, readDashboard, renderDashboards, substitute, type PanelQuery } from '@lookout/grafana';
import type { StackSettings } from '@lookout/native-stack';
import { fetchJson } from '@lookout/testkit';

/**
 * Runs every query of every Lookout dashboard against the live native Prometheus, Loki and Tempo, as Grafana would
 * for the time range [from, to]: Grafana cannot run here, so this is the proof that no panel says "No data".
 *
 * Variables get real values: a query variable's values come from its own query (`label_values`) against the stack.
 * A multi-value variable with "All" gets all of them (Grafana's regex alternation); a single-value one is tried with
 * each of its values in turn and the panel passes with the first that has data (the Service dashboard's database
 * panels have data for catalog, not for the gateway). Prometheus panels are run as range queries over the window,
 * instant ones included: "had data at some point of the run" (a firing-alerts table is empty once all resolved).
 */

export interface PanelResult {
  dashboard: string;
  panel: string;
  refId: string;
  signal: string;
  /** The variable values with which the query returned data, or undefined when none did. */
  withValues: Record<string, string> | undefined;
  /** The last query run (substituted), for the failure message. */
  query: string;
  error?: string;
}

type Values = Record<string, string | string[]>;

const STEP_S = 60;

export async function checkDashboardData(s: StackSettings, fromMs: number, toMs: number): Promise<PanelResult[]> {
  const rangeSeconds = Math.max(STEP_S, Math.round((toMs - fromMs) / 1000));
  const macros = macroValues({ rangeSeconds, toMs, maxDataPoints: Math.ceil(rangeSeconds / STEP_S) });
  const start = Math.floor(fromMs / 1000);
  const end = Math.ceil(toMs / 1000);
  const prom = `http://127.0.0.1:${s.ports.prometheus}`;

  const get = async (url: string): Promise<Record<string, unknown>> => {
    const { status, body } = await fetchJson(url, { signal: AbortSignal.timeout(30_000) });
    if (status !== 200) throw new Error(`${status} from ${url.split('?')[0] ?? url}: ${JSON.stringify(body).slice(0, 300)}`);
    return body;
  };
  const data = (body: Record<string, unknown>) => body.data as { result?: unknown[] } | unknown[] | undefined;

  /** Whether one substituted query returns anything. */
  async function hasData(q: PanelQuery, expr: string): Promise<boolean> {
    switch (q.signal) {
      case 'prometheus': {
        if (q.kind === 'variable') return (await variableValues(expr, {})).length > 0;
        const params = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(STEP_S) });
        const result = (data(await get(`${prom}/api/v1/query_range?${params.toString()}`)) as { result: unknown[] }).result;
        return result.length > 0;
      }
      case 'loki': {
        const params = new URLSearchParams({ query: expr, start: `${start}000000000`, end: `${end}000000000`, limit: '5', step: `${STEP_S}s` });
        const result = (data(await get(`http://127.0.0.1:${s.ports.loki}/loki/api/v1/query_range?${params.toString()}`)) as { result: unknown[] }).result;
        return result.length > 0;
      }
      case 'tempo': {
        if (q.kind === 'serviceMap') {
          // Grafana draws the service map from the metrics generator's series in Prometheus.
          const params = new URLSearchParams({ query: 'traces_service_graph_request_total', start: String(start), end: String(end), step: String(STEP_S) });
          return ((data(await get(`${prom}/api/v1/query_range?${params.toString()}`)) as { result: unknown[] }).result).length > 0;
        }
        const params = new URLSearchParams({ q: expr, start: String(start), end: String(end), limit: '5' });
        const body = await get(`http://127.0.0.1:${s.ports.tempo}/api/search?${params.toString()}`);
        return ((body.traces as unknown[] | undefined) ?? []).length > 0;
      }
    }
  }

  /** A template variable's values, from its query against Prometheus (`label_values`, `query_result`, …). */
  async function variableValues(query: string, known: Values): Promise<string[]> {
    const parsed = parseVariableQuery(substitute(query, { ...macros, ...known }));
    if (parsed === undefined) throw new Error(`unsupported variable query: ${query}`);
    const window = { start: String(start), end: String(end) };
    switch (parsed.fn) {
      case 'label_values': {
        const params = new URLSearchParams(window);
        if (parsed.match !== undefined) params.append('match[]', parsed.match);
        return (data(await get(`${prom}/api/v1/label/${parsed.label}/values?${params.toString()}`)) as string[]).sort();
      }
      case 'label_names': {
        const params = new URLSearchParams(window);
        if (parsed.match !== undefined) params.append('match[]', parsed.match);
        return data(await get(`${prom}/api/v1/labels?${params.toString()}`)) as string[];
      }
      case 'metrics': {
        const names = data(await get(`${prom}/api/v1/label/__name__/values?${new URLSearchParams(window).toString()}`)) as string[];
        return names.filter((n) => new RegExp(parsed.regex).test(n));
      }
      case 'query_result': {
        const params = new URLSearchParams({ query: parsed.expr, time: String(end) });
        return ((data(await get(`${prom}/api/v1/query?${params.toString()}`)) as { result: unknown[] }).result).map((r) => JSON.stringify(r));
      }
    }
  }

  const results: PanelResult[] = [];
  for (const json of renderDashboards().values()) {
    const dashboard = readDashboard(json);
    // Each combination of the single-value variables' values, with the multi-value ones set to All.
    let combos: Values[] = [{}];
    for (const v of dashboard.variables) {
      if (v.type === 'datasource') {
        combos = combos.map((c) => ({ ...c, [v.name]: v.values[0] ?? v.name }));
        continue;
      }
      if (v.type !== 'query') {
        combos = combos.map((c) => ({ ...c, [v.name]: v.values }));
        continue;
      }
      const next: Values[] = [];
      for (const c of combos) {
        const values = await variableValues(v.query, c);
        const multi = v.raw.multi === true || v.raw.includeAll === true;
        if (multi || values.length === 0) next.push({ ...c, [v.name]: values.length === 0 ? ['(none)'] : values });
        else for (const value of values) next.push({ ...c, [v.name]: value });
      }
      combos = next;
    }
    for (const q of panelQueries(json)) {
      if (q.hidden) continue;
      const row: PanelResult = { dashboard: dashboard.title, panel: q.panelTitle, refId: q.refId, signal: q.signal, withValues: undefined, query: q.expr };
      for (const combo of combos) {
        try {
          row.query = substitute(q.expr, { ...macros, ...combo });
          if (await hasData(q, row.query)) {
            row.withValues = Object.fromEntries(
              Object.entries(combo).filter(([name]) => q.expr.includes(name)).map(([name, v]) => [name, Array.isArray(v) ? 'All' : v]),
            );
            delete row.error;
            break;
          }
        } catch (err) {
          row.error = err instanceof Error ? err.message : String(err);
        }
      }
      results.push(row);
    }
  }
  return results;
}
