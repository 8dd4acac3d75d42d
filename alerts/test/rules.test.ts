import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureBinaries, type BinaryDirs } from '@lookout/native-stack';
import { parse } from 'yaml';
import { ALERTMANAGER_FILE, REPO, renderAlertmanagerConfig, renderRuleFile, ruleFiles } from '../src/generate.js';
import { DASHBOARDS, isAlert, type AlertingRule } from '../src/rules.js';

const exec = promisify(execFile);
const TESTS_DIR = path.join(REPO, 'alerts/tests');

const alerts: AlertingRule[] = Object.values(ruleFiles()).flatMap((f) => f.groups.flatMap((g) => g.rules.filter(isAlert)));
const recordings = Object.values(ruleFiles()).flatMap((f) => f.groups.flatMap((g) => g.rules)).length - alerts.length;

/** The UIDs of the generated Grafana dashboards. */
const dashboardUids = () =>
  new Set(
    readdirSync(path.join(REPO, 'grafana/dashboards')).map(
      (f) => (JSON.parse(readFileSync(path.join(REPO, 'grafana/dashboards', f), 'utf8')) as { uid: string }).uid,
    ),
  );

interface PromtoolTest {
  name: string;
  alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
}

describe('alert and recording rules', { timeout: 60 * 60 * 1000 }, () => {
  let promtool: string;
  let amtool: string;
  let pint: string;
  before(async () => {
    const bins: BinaryDirs = await ensureBinaries((line) => process.stderr.write(`# ${line}\n`));
    promtool = path.join(bins.prometheus, 'promtool');
    amtool = path.join(bins.alertmanager, 'amtool');
    pint = path.join(bins.pint, 'pint');
  }, { timeout: 60 * 60 * 1000 });

  for (const [file, content] of Object.entries(ruleFiles())) {
    it(`${file} is generated from alerts/src and up to date (npm run gen)`, () => {
      assert.equal(readFileSync(path.join(REPO, file), 'utf8'), renderRuleFile(content), `${file} is stale: run npm run gen`);
    });

    it(`${file} passes promtool check rules`, async () => {
      const { stdout } = await exec(promtool, ['check', 'rules', path.join(REPO, file)]);
      assert.match(stdout, /SUCCESS/);
    });
  }

  it('pass pint\'s offline lint, with Lookout\'s label and annotation conventions (alerts/.pint.hcl)', async () => {
    const files = Object.keys(ruleFiles()).map((f) => path.join(REPO, f));
    // Any problem at all, information included, fails: pint prints each one and exits non-zero.
    const { stderr } = await exec(pint, ['--no-color', '--offline', '--config', path.join(REPO, 'alerts/.pint.hcl'), 'lint', '--min-severity', 'info', '--fail-on', 'info', ...files]);
    assert.doesNotMatch(stderr, /Problems found/);
    assert.match(stderr, new RegExp(`entries=${alerts.length + recordings}`));
  });

  it('pass their promtool unit tests', async () => {
    const files = readdirSync(TESTS_DIR).filter((f) => f.endsWith('.test.yml'));
    assert.ok(files.length > 0);
    const { stdout } = await exec(promtool, ['test', 'rules', ...files], { cwd: TESTS_DIR });
    assert.match(stdout, /SUCCESS/);
    assert.doesNotMatch(stdout, /FAILED/);
  });

  it('give every alert a unit-test case where it fires and one where it stays silent', () => {
    const cases = readdirSync(TESTS_DIR)
      .filter((f) => f.endsWith('.test.yml'))
      .flatMap((f) => (parse(readFileSync(path.join(TESTS_DIR, f), 'utf8')) as { tests: PromtoolTest[] }).tests)
      .flatMap((t) => t.alert_rule_test ?? []);
    const missing = alerts.flatMap((a) => {
      const own = cases.filter((c) => c.alertname === a.alert);
      return [
        ...(own.some((c) => (c.exp_alerts ?? []).length > 0) ? [] : [`${a.alert}: no case where it fires`]),
        // Watchdog fires by design, always: it has no silent case.
        ...(a.expr === 'vector(1)' || own.some((c) => (c.exp_alerts ?? []).length === 0) ? [] : [`${a.alert}: no case where it stays silent`]),
      ];
    });
    assert.deepEqual(missing, []);
  });

  it('link only to dashboards that exist', () => {
    const existing = dashboardUids();
    assert.deepEqual(Object.values(DASHBOARDS).filter((uid) => !existing.has(uid)), []);
  });

  it('give every alert a severity, a service, a summary, a description, a runbook that exists and a dashboard that exists', () => {
    const dashboards = dashboardUids();
    assert.ok(alerts.length > 0);
    for (const a of alerts) {
      assert.ok(['page', 'ticket', 'info'].includes(a.labels.severity), a.alert);
      assert.ok(a.labels.service.length > 0, a.alert);
      assert.ok(a.annotations.summary.length > 10 && a.annotations.description.includes('{{ $value'), a.alert);
      assert.ok(existsSync(path.join(REPO, a.annotations.runbook_url)), `${a.alert}: no runbook at ${a.annotations.runbook_url}`);
      const uid = /^\/d\/([^/?]+)/.exec(a.annotations.dashboard_url)?.[1] ?? '';
      assert.ok(dashboards.has(uid), `${a.alert}: no dashboard with UID ${uid}`);
    }
    assert.equal(new Set(alerts.map((a) => a.alert)).size, alerts.length, 'an alert name is used twice');
  });

  it(`${ALERTMANAGER_FILE} is generated from alerts/src and up to date, and passes amtool check-config`, async () => {
    const file = path.join(REPO, ALERTMANAGER_FILE);
    assert.equal(readFileSync(file, 'utf8'), renderAlertmanagerConfig(), `${ALERTMANAGER_FILE} is stale: run npm run gen`);
    const { stdout } = await exec(amtool, ['check-config', file]);
    assert.match(stdout, /SUCCESS/);
  });

  it('routes pages to the pager, tickets to the ticket receiver, info nowhere and Watchdog to its own receiver', async () => {
    const route = async (...labels: string[]) =>
      (await exec(amtool, ['config', 'routes', 'test', `--config.file=${path.join(REPO, ALERTMANAGER_FILE)}`, ...labels])).stdout.trim();
    assert.equal(await route('severity=page', 'service=gateway'), 'pager');
    assert.equal(await route('severity=ticket', 'service=orders'), 'ticket');
    assert.equal(await route('severity=info', 'service=gateway'), 'none');
    assert.equal(await route('alertname=Watchdog', 'severity=info', 'service=alerting'), 'watchdog');
    // Every alert of the rules lands where its severity says.
    for (const a of alerts) {
      const expected = a.alert === 'Watchdog' ? 'watchdog' : a.labels.severity === 'info' ? 'none' : a.labels.severity === 'page' ? 'pager' : 'ticket';
      assert.equal(await route(`alertname=${a.alert}`, `severity=${a.labels.severity}`, 'service=x'), expected, a.alert);
    }
  });

  it('inhibits as designed: a page silences its service\'s tickets, a dependency down the symptoms it causes', () => {
    interface Inhibition { source_matchers: string[]; target_matchers: string[]; equal?: string[] }
    const config = parse(readFileSync(path.join(REPO, ALERTMANAGER_FILE), 'utf8')) as { inhibit_rules: Inhibition[] };
    // Alertmanager's matcher syntax as the generator writes it: name, operator, quoted value; regexes anchored.
    const matches = (labels: Record<string, string>, matcher: string) => {
      const m = /^(\w+)(=~|!~|!=|=)"(.*)"$/.exec(matcher);
      assert.ok(m, matcher);
      const [, name = '', op, value = ''] = m;
      const actual = labels[name] ?? '';
      const re = new RegExp(`^(?:${value})$`);
      return op === '=' ? actual === value : op === '!=' ? actual !== value : op === '=~' ? re.test(actual) : !re.test(actual);
    };
    const silences = (source: Record<string, string>, target: Record<string, string>) =>
      config.inhibit_rules.some(
        (r) =>
          r.source_matchers.every((m) => matches(source, m)) &&
          r.target_matchers.every((m) => matches(target, m)) &&
          (r.equal ?? []).every((l) => source[l] === target[l]),
      );
    const labels = (alert: string, service: string) => {
      const rule = alerts.find((a) => a.alert === alert);
      assert.ok(rule, alert);
      return { alertname: alert, severity: rule.labels.severity, service };
    };
    const yes: [string, string, string, string][] = [
      ['GatewayAvailabilityBudgetBurnFast', 'gateway', 'HttpErrorRatioHigh', 'gateway'],
      ['TargetDown', 'catalog', 'HttpLatencyHigh', 'catalog'],
      ['PostgresUnreachable', 'orders', 'HttpErrorRatioHigh', 'catalog'],
      ['PostgresUnreachable', 'catalog', 'GatewayAvailabilityBudgetBurnFast', 'gateway'],
      ['PostgresUnreachable', 'catalog', 'DatabasePoolSaturated', 'catalog'],
      ['BrokerUnreachable', 'orders', 'OutboxLagHigh', 'orders'],
      ['BrokerUnreachable', 'fulfillment', 'OrderFreshnessBudgetBurnFast', 'fulfillment'],
      ['RedisUnreachable', 'catalog', 'CacheHitRatioLow', 'catalog'],
    ];
    for (const [s1, v1, s2, v2] of yes) assert.ok(silences(labels(s1, v1), labels(s2, v2)), `${s1}(${v1}) should silence ${s2}(${v2})`);
    const no: [string, string, string, string][] = [
      ['GatewayAvailabilityBudgetBurnFast', 'gateway', 'HttpErrorRatioHigh', 'catalog'],
      ['OrderFreshnessBudgetBurnFast', 'fulfillment', 'GatewayLatencyBudgetBurnFast', 'gateway'],
      ['PostgresUnreachable', 'orders', 'PostgresUnreachable', 'catalog'],
      ['PostgresUnreachable', 'orders', 'BrokerUnreachable', 'orders'],
      ['RedisUnreachable', 'catalog', 'HttpLatencyHigh', 'catalog'],
      ['TargetDown', 'catalog', 'Watchdog', 'catalog'],
    ];
    for (const [s1, v1, s2, v2] of no) assert.ok(!silences(labels(s1, v1), labels(s2, v2)), `${s1}(${v1}) must not silence ${s2}(${v2})`);
  });
});
