import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderDashboards } from '../src/generate.js';
import { isCounter, lintAlertDashboardLinks, lintDashboard, lintDashboards } from '../src/lint.js';
import { macroValues, panelQueries, parseVariableQuery, readDashboard, substitute, variablesIn } from '../src/queries.js';

const REPO = path.resolve(__dirname, '../../..');

const rendered = () => [...renderDashboards().values()].map((json): unknown => JSON.parse(json));
const uidsOf = (dashboards: unknown[]) => new Set(dashboards.map((d) => readDashboard(d).uid));

/** A small dashboard in the classic model, with a Prometheus, a Loki and a Tempo datasource variable. */
function dashboard(panels: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uid: 'test',
    title: 'Test',
    templating: {
      list: [
        { type: 'datasource', name: 'prometheus', query: 'prometheus' },
        { type: 'datasource', name: 'loki', query: 'loki' },
        { type: 'datasource', name: 'tempo', query: 'tempo' },
        {
          type: 'query',
          name: 'service',
          datasource: { type: 'prometheus', uid: '${prometheus}' },
          query: 'label_values(http_server_request_duration_seconds_count, job)',
          refresh: 2,
          current: { value: ['gateway', 'catalog'] },
        },
      ],
    },
    panels,
    ...extra,
  };
}

const PROM = { type: 'prometheus', uid: '${prometheus}' };
const LOKI = { type: 'loki', uid: '${loki}' };
const TEMPO = { type: 'tempo', uid: '${tempo}' };

function promPanel(expr: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'timeseries',
    title: 'Requests',
    description: 'Requests per second.',
    datasource: PROM,
    fieldConfig: { defaults: { unit: 'reqps' }, overrides: [] },
    targets: [{ refId: 'A', datasource: PROM, expr }],
    ...overrides,
  };
}

const GOOD = 'sum by (job) (rate(http_server_request_duration_seconds_count{job=~"$service"}[$__rate_interval]))';

/** Asserts that linting `json` reports exactly one problem, matching `pattern`. */
function assertProblem(json: unknown, pattern: RegExp, context?: Parameters<typeof lintDashboard>[1]) {
  const problems = lintDashboard(json, context);
  assert.equal(problems.length, 1, `expected one problem matching ${pattern}, got:\n${problems.join('\n')}`);
  assert.match(problems[0] ?? '', pattern);
}

describe('dashboard lint', () => {
  it('every generated dashboard passes the linter', () => {
    const problems = lintDashboards(rendered());
    assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
  });

  it('every alert\'s dashboard_url in prometheus/rules leads to a dashboard', () => {
    const dir = path.join(REPO, 'prometheus/rules');
    const files = Object.fromEntries(
      readdirSync(dir)
        .filter((f) => f.endsWith('.yml'))
        .map((f): [string, unknown] => [`prometheus/rules/${f}`, parse(readFileSync(path.join(dir, f), 'utf8'))]),
    );
    assert.ok(Object.keys(files).length > 0);
    const problems = lintAlertDashboardLinks(files, uidsOf(rendered()));
    assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
  });

  it('passes a dashboard that follows every rule', () => {
    const ok = dashboard([
      { type: 'row', title: 'Row', panels: [] },
      promPanel(GOOD),
      promPanel(`sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[$__rate_interval])) / (sum(rate(http_server_request_duration_seconds_count[$__rate_interval])) > 0)`, {
        title: 'Error ratio',
        fieldConfig: { defaults: { unit: 'percentunit' } },
      }),
      promPanel('sum(nodejs_active_handles_total{job=~"$service"})', { title: 'Handles', fieldConfig: { defaults: { unit: 'short' } } }),
      promPanel('sum(increase(cache_requests_total[$__range]))', { title: 'Cache requests in range', fieldConfig: { defaults: { unit: 'short' } } }),
      { type: 'logs', title: 'Logs', description: 'Lines.', datasource: LOKI, targets: [{ refId: 'A', datasource: LOKI, expr: '{service_name=~"$service"} |= "error"' }] },
      {
        type: 'timeseries',
        title: 'Log errors',
        description: 'Error lines per second.',
        datasource: LOKI,
        fieldConfig: { defaults: { unit: 'short' } },
        targets: [{ refId: 'A', datasource: LOKI, expr: 'sum by (service_name) (count_over_time({service_name=~"$service"} | json | level="error" [$__auto]))' }],
      },
      {
        type: 'table',
        title: 'Slow traces',
        description: 'Traces over 300 ms.',
        datasource: TEMPO,
        targets: [{ refId: 'A', datasource: TEMPO, queryType: 'traceql', query: '{ resource.service.name =~ "$service" && duration > 300ms }' }],
      },
      { type: 'nodeGraph', title: 'Map', description: 'Service graph.', datasource: TEMPO, targets: [{ refId: 'A', datasource: TEMPO, queryType: 'serviceMap' }] },
      {
        type: 'stat',
        title: 'Availability vs objective',
        description: 'SLI and its target.',
        datasource: PROM,
        links: [{ title: 'SLOs', url: '/d/test?var-service=gateway' }],
        fieldConfig: { defaults: { unit: 'percentunit', thresholds: { mode: 'absolute', steps: [{ value: null, color: 'red' }, { value: 0.99, color: 'green' }] } } },
        targets: [{ refId: 'A', datasource: PROM, expr: '1 - slo:sli_error:ratio_rate5m{sloth_service=~"$service"}', instant: true }],
      },
    ]);
    assert.deepEqual(lintDashboard(ok), []);
  });

  it('reports a panel without a description', () => {
    assertProblem(dashboard([promPanel(GOOD, { description: '' })]), /^Test \/ Requests: no description$/);
  });

  it('reports a panel without a title, a unit, or a valid unit', () => {
    assertProblem(dashboard([promPanel(GOOD, { title: '' })]), /untitled timeseries: no title/);
    assertProblem(dashboard([promPanel(GOOD, { fieldConfig: { defaults: {} } })]), /Requests: no unit/);
    assertProblem(dashboard([promPanel(GOOD, { fieldConfig: { defaults: { unit: 'requests' } } })]), /unit "requests" is not a Grafana unit/);
  });

  it('reports a panel without targets', () => {
    assertProblem(dashboard([promPanel(GOOD, { targets: [] })]), /Requests: no targets/);
  });

  it('reports a hard-coded datasource uid, on the panel and on a target', () => {
    assertProblem(dashboard([promPanel(GOOD, { datasource: { type: 'prometheus', uid: 'prometheus' } })]), /Requests: datasource uid "prometheus" is hard-coded/);
    assertProblem(
      dashboard([promPanel(GOOD, { targets: [{ refId: 'A', datasource: { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' }, expr: GOOD }] })]),
      /Requests \[A\]: datasource uid "P1809F7CD0C75ACF3" is hard-coded/,
    );
  });

  it('reports a datasource variable the dashboard does not define', () => {
    const json = dashboard([promPanel(GOOD)]);
    (json.templating as { list: unknown[] }).list.splice(0, 1);
    const problems = lintDashboard(json);
    assert.ok(problems.some((p) => /\$prometheus is not defined as a variable of type datasource/.test(p)), problems.join('\n'));
  });

  it('reports rate(x[5m]) and $__interval inside rate', () => {
    assertProblem(dashboard([promPanel('sum(rate(http_server_request_duration_seconds_count[5m]))')]), /Requests \[A\]: rate\(\) over \[5m\]: use \[\$__rate_interval\]/);
    assertProblem(dashboard([promPanel('sum(increase(cache_requests_total[$__interval]))')]), /increase\(\) over \[\$__interval\]/);
  });

  it('reports a counter outside rate/irate/increase, but not a contract gauge ending in _total', () => {
    assertProblem(dashboard([promPanel('sum by (job) (cache_requests_total)')]), /counter cache_requests_total outside rate/);
    assertProblem(dashboard([promPanel('http_server_request_duration_seconds_count > 0')]), /counter http_server_request_duration_seconds_count outside/);
    assertProblem(dashboard([promPanel('rate(sum(redis_commands_processed_total)[$__rate_interval:])')]), /counter redis_commands_processed_total outside/);
    assert.equal(isCounter('nodejs_active_handles_total'), false);
    assert.equal(isCounter('otelcol_receiver_accepted_spans'), true);
    assert.equal(isCounter('redis_keyspace_hits_total'), true);
    assert.equal(isCounter('pg_up'), false);
    assert.equal(isCounter('pg_stat_database_xact_commit'), true);
  });

  it('reports broken PromQL, LogQL and TraceQL', () => {
    assertProblem(dashboard([promPanel('sum(rate(http_server_request_duration_seconds_count[$__rate_interval])')]), /PromQL does not parse/);
    const loki = (expr: string) => ({
      type: 'timeseries',
      title: 'Log rate',
      description: 'Lines per second.',
      datasource: LOKI,
      fieldConfig: { defaults: { unit: 'short' } },
      targets: [{ refId: 'A', datasource: LOKI, expr }],
    });
    assertProblem(dashboard([loki('sum(count_over_time({service_name="gateway" [$__auto]))')]), /Log rate \[A\]: LogQL does not parse/);
    assertProblem(dashboard([loki('sum(count_over_time({service_name="gateway"}[5m]))')]), /LogQL range \[5m\]: use \[\$__auto\]/);
    const tempo = { type: 'table', title: 'Traces', description: 'Traces.', datasource: TEMPO, targets: [{ refId: 'A', datasource: TEMPO, queryType: 'traceql', query: '{ resource.service.name = "gateway" && ' }] };
    assertProblem(dashboard([tempo]), /Traces \[A\]: TraceQL does not parse/);
  });

  it('reports a variable a query uses but the dashboard does not define', () => {
    assertProblem(dashboard([promPanel('sum(rate(http_server_request_duration_seconds_count{job=~"$job"}[$__rate_interval]))')]), /uses \$job, which is not a variable/);
  });

  it('reports template variables with a fixed datasource, no refresh on time change, or broken PromQL', () => {
    const withVariable = (variable: Record<string, unknown>) => {
      const json = dashboard([promPanel(GOOD)]);
      (json.templating as { list: unknown[] }).list.push({ type: 'query', name: 'route', datasource: PROM, query: 'label_values(up, job)', refresh: 2, ...variable });
      return json;
    };
    assertProblem(withVariable({ datasource: { type: 'prometheus', uid: 'prometheus' } }), /Test \/ \$route: datasource uid "prometheus" is hard-coded/);
    assertProblem(withVariable({ refresh: 1 }), /\$route: refresh is 1/);
    assertProblem(withVariable({ query: 'label_values(up{job=, job)' }), /\$route: PromQL does not parse/);
    assertProblem(withVariable({ query: 'values(up)' }), /not a Prometheus variable query/);
    assert.deepEqual(lintDashboard(withVariable({ query: { query: 'label_values(up{job=~"$service"}, instance)', refId: 'PrometheusVariableQueryEditor-VariableQuery' } })), []);
  });

  it('reports a link to an unknown dashboard, and duplicate UIDs', () => {
    const linked = dashboard([promPanel(GOOD, { links: [{ title: 'x', url: '/d/nowhere?var-service=a' }] })]);
    assertProblem(linked, /Requests: links to \/d\/nowhere, which is no dashboard/);
    const dataLink = dashboard([promPanel(GOOD, { fieldConfig: { defaults: { unit: 's', links: [{ title: 'x', url: 'http://localhost:3000/d/elsewhere/x' }] } } })]);
    assertProblem(dataLink, /links to \/d\/elsewhere/);
    assertProblem(dashboard([promPanel(GOOD)], { links: [{ type: 'link', title: 'x', url: '/d/missing' }] }), /^Test: links to \/d\/missing/);
    assert.deepEqual(lintDashboard(linked, { dashboardUids: new Set(['test', 'nowhere']) }), []);
    const problems = lintDashboards([dashboard([promPanel(GOOD)]), dashboard([promPanel(GOOD)], { title: 'Other' })]);
    assert.deepEqual(problems, ['Other: uid test is also the uid of Test']);
  });

  it('reports an alert whose dashboard_url leads to no dashboard', () => {
    const rules = { 'rules.yml': { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', annotations: { dashboard_url: '/d/gone?var-service=x' } }] }] } };
    assert.deepEqual(lintAlertDashboardLinks(rules, new Set(['test'])), ['rules.yml / A: dashboard_url /d/gone?var-service=x leads to no dashboard']);
  });

  it('reports an unguarded division on a ratio panel, and a target title without thresholds', () => {
    const ratio = 'sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[$__rate_interval])) / sum(rate(http_server_request_duration_seconds_count[$__rate_interval]))';
    assertProblem(dashboard([promPanel(ratio, { fieldConfig: { defaults: { unit: 'percentunit' } } })]), /division without a NaN guard/);
    assert.deepEqual(lintDashboard(dashboard([promPanel(`clamp_max(${ratio}, 1) >= 0`, { fieldConfig: { defaults: { unit: 'percentunit' } } })])), []);
    assertProblem(dashboard([promPanel(`(${ratio}) >= bool 0`, { fieldConfig: { defaults: { unit: 'percentunit' } } })]), /division without a NaN guard/);
    assertProblem(dashboard([promPanel(GOOD, { title: 'Latency vs SLO' })]), /Latency vs SLO: the title names a target, but the panel has no thresholds/);
  });

  it('checks the panels of collapsed rows', () => {
    const json = dashboard([{ type: 'row', title: 'Collapsed', collapsed: true, panels: [promPanel('rate(http_server_request_duration_seconds_count[1m])')] }]);
    assertProblem(json, /Requests \[A\]: rate\(\) over \[1m\]/);
  });
});

describe('query extraction', () => {
  it('lists every target with its signal and kind, rows included, and variable queries', () => {
    const json = dashboard([
      { type: 'row', title: 'R', collapsed: true, panels: [promPanel(GOOD, { targets: [{ datasource: PROM, expr: GOOD }, { datasource: PROM, expr: 'up', instant: true, range: false }] })] },
      { type: 'logs', title: 'Logs', datasource: LOKI, targets: [{ refId: 'L', datasource: LOKI, expr: '{service_name="x"}' }] },
      { type: 'timeseries', title: 'Log rate', datasource: LOKI, targets: [{ datasource: LOKI, expr: 'sum(rate({service_name="x"}[$__auto]))' }] },
      { type: 'table', title: 'Traces', datasource: TEMPO, targets: [{ datasource: { uid: '${tempo}' }, queryType: 'traceql', query: '{}' }] },
      { type: 'nodeGraph', title: 'Map', datasource: TEMPO, targets: [{ datasource: TEMPO, queryType: 'serviceMap' }] },
    ]);
    const queries = panelQueries(json).map((q) => [q.panelTitle, q.row ?? '', q.refId, q.signal, q.kind, q.expr]);
    assert.deepEqual(queries, [
      ['Requests', 'R', 'A', 'prometheus', 'range', GOOD],
      ['Requests', 'R', 'B', 'prometheus', 'instant', 'up'],
      ['Logs', 'R', 'L', 'loki', 'logs', '{service_name="x"}'],
      ['Log rate', 'R', 'A', 'loki', 'range', 'sum(rate({service_name="x"}[$__auto]))'],
      ['Traces', 'R', 'A', 'tempo', 'traceql', '{}'],
      ['Map', 'R', 'A', 'tempo', 'serviceMap', ''],
      ['$service', '', 'service', 'prometheus', 'variable', 'label_values(http_server_request_duration_seconds_count, job)'],
    ]);
    assert.equal(panelQueries(json)[0]?.dashboardUid, 'test');
  });

  it('finds a query in every generated dashboard panel that has targets', () => {
    for (const json of rendered()) {
      for (const q of panelQueries(json)) assert.ok(q.kind === 'serviceMap' || q.expr.trim() !== '', `${q.dashboardTitle} / ${q.panelTitle} [${q.refId}] has an empty query`);
    }
  });

  it('substitutes macros and variables in every Grafana syntax', () => {
    const values = { __rate_interval: '1m', __range: '1h', __auto: '30s', service: ['gateway', 'catalog'], env: 'local', route: '/products/:id' };
    assert.equal(
      substitute('rate(x{job=~"$service", env="${env}", r="[[route]]"}[$__rate_interval]) / increase(x[${__range}]) + count_over_time({a="b"}[$__auto])', values),
      'rate(x{job=~"(gateway|catalog)", env="local", r="/products/:id"}[1m]) / increase(x[1h]) + count_over_time({a="b"}[30s])',
    );
    assert.equal(substitute('${service:regex} ${service:pipe} ${service:csv} ${env:regex}', { service: ['a.b', 'c'], env: 'x' }), '(a\\\\.b|c) a.b|c a.b,c x');
    assert.equal(substitute('label_replace(up, "a", "$1", "job", "(.*)")', {}), 'label_replace(up, "a", "$1", "job", "(.*)")');
    assert.throws(() => substitute('up{job="$nope"}', {}), /no value for variable \$nope/);
    assert.equal(substitute('up{job="$nope"}', {}, { keepUnknown: true }), 'up{job="$nope"}');
    assert.deepEqual(variablesIn('$a ${b} [[c]] ${d:regex} $__range_s $1'), ['a', 'b', 'c', 'd', '__range_s']);
  });

  it('computes Grafana\'s time macros and parses variable queries', () => {
    const m = macroValues({ rangeSeconds: 3600, scrapeIntervalSeconds: 15, toMs: 3_600_000 });
    assert.deepEqual([m.__interval, m.__rate_interval, m.__range, m.__range_s, m.__from], ['15s', '60s', '3600s', '3600', '0']);
    assert.deepEqual(parseVariableQuery('label_values(up{job=~"a|b"}, instance)'), { fn: 'label_values', match: 'up{job=~"a|b"}', label: 'instance' });
    assert.deepEqual(parseVariableQuery('label_values(job)'), { fn: 'label_values', label: 'job' });
    assert.deepEqual(parseVariableQuery('query_result(topk(5, up))'), { fn: 'query_result', expr: 'topk(5, up)' });
    assert.equal(parseVariableQuery('up'), undefined);
  });
});
