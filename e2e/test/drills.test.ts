import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import { alertmanagerConfig, isAlert, ruleFiles, SLOS, type AlertingRule } from '@lookout/alerts';
import { startFault, stopFault } from '@lookout/loadgen';
import { control, type StackSettings } from '@lookout/native-stack';
import { topology } from '@lookout/shop-contracts';
import { fetchJson, sleep } from '@lookout/testkit';
import amqp from 'amqplib';
import { promQuery } from './backends.js';
import { checkDashboardData } from './dashboard-data.js';
import { startStack, stopStack } from './stack.js';

/**
 * Alert drills on the native stack under steady load: each fault is switched on until its alerts reach the webhook
 * receiver (or Alertmanager, inhibited by the alert that explains them), then off until they resolve. Independent
 * faults run concurrently (phase 1); stopping Postgres and RabbitMQ breaks everything else, so it runs alone
 * (phase 2). Before any fault, a healthy run must fire nothing but Watchdog.
 *
 * DRILL_WARMUP_SECONDS (default 60) and DRILL_HEALTHY_SECONDS (default 120) set the healthy run: nothing may fire
 * from the start, nothing may even go pending once caches are warm. DRILL_REPORT=FILE writes the timings as JSON.
 */

const WARMUP_S = Number(process.env.DRILL_WARMUP_SECONDS ?? 60);
const HEALTHY_S = Number(process.env.DRILL_HEALTHY_SECONDS ?? 120);
/** Prometheus' evaluation interval (prometheus/prometheus.yml). */
const EVAL_S = 15;
/** Polling and clock slack on top of every bound. */
const SLACK_S = 15;

const rules = new Map<string, AlertingRule>(
  Object.values(ruleFiles()).flatMap((f) => f.groups.flatMap((g) => g.rules.filter(isAlert).map((r) => [r.alert, r] as const))),
);

const seconds = (duration: string | undefined) => {
  const m = /^(\d+)([smh])$/.exec(duration ?? '0s');
  return m === null ? 0 : Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
};

/** The group_wait Alertmanager applies to an alert of this severity, from the generated configuration. */
function groupWait(severity: string): number {
  const route = alertmanagerConfig().route as { group_wait: string; routes: { matchers: string[]; group_wait?: string }[] };
  const own = route.routes.find((r) => r.matchers.includes(`severity="${severity}"`));
  return seconds(own?.group_wait ?? route.group_wait);
}

interface Expectation {
  alert: string;
  service: string;
  /** Set when the alert is meant to be silenced by this one (Alertmanager's inhibition): it is checked there. */
  inhibitedBy?: string;
  /** Seconds the fault needs to move the metric (scrape, the collector's export) and its window past the threshold. */
  detect: number;
  /** Seconds after the fault is off within which the alert must have resolved; unset: not awaited here. */
  resolve?: number;
}

interface Drill {
  name: string;
  phase: 1 | 2;
  /** Seconds to wait after the phase starts before switching the fault on. */
  delay?: number;
  on: () => Promise<void>;
  off: () => Promise<void>;
  fires: Expectation[];
  /** Alerts the fault causes once it is switched off (late confirmations after a paused consumer resumes). */
  firesAfterOff?: Expectation[];
}

interface Row {
  drill: string;
  alert: string;
  service: string;
  via: string;
  /** From fault on (or off, for firesAfterOff) to the notification (or to the inhibited alert in Alertmanager). */
  firedAfter: number;
  bound: number;
  /** From the alert becoming active in Prometheus to the notification: at most `for` + 2 evaluations + group_wait. */
  deliveredIn: number | null;
  resolvedAfter: number;
}

interface AmAlert {
  fingerprint: string;
  labels: Record<string, string>;
  startsAt: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[] };
}

interface Received {
  receivedAt: string;
  alertname: string;
  service: string;
  status: string;
  startsAt: string;
}

describe('alert drills on the native stack', { timeout: 60 * 60 * 1000 }, () => {
  let stack: StackSettings | undefined;
  const s = () => stack as StackSettings;
  const rows: Row[] = [];
  const url = (name: string) => `http://127.0.0.1:${s().servicePorts[name] ?? 0}`;
  // Where a service's /admin answers: its management port (the gateway's), else its port.
  const adminUrl = (name: string) => `http://127.0.0.1:${s().managementPorts[name] ?? 0}`;

  let startedAt = 0;
  before(async () => {
    stack = await startStack({ loadgenRate: 10 });
    startedAt = Date.now();
  }, { timeout: 60 * 60 * 1000 });
  after(async () => {
    if (process.env.DRILL_REPORT !== undefined) writeFileSync(process.env.DRILL_REPORT, `${JSON.stringify(rows, null, 2)}\n`);
    await stopStack(stack);
  });

  const notifications = async (alertname?: string): Promise<Received[]> => {
    const query = alertname === undefined ? '' : `?${new URLSearchParams({ alertname, status: 'firing' }).toString()}`;
    const { body } = await fetchJson(`${url('alert-receiver')}/notifications${query}`, { signal: AbortSignal.timeout(5000) });
    return (body as unknown as { notifications: Received[] }).notifications;
  };

  const amAlerts = async (alert: string, service: string): Promise<AmAlert[]> => {
    const params = new URLSearchParams();
    params.append('filter', `alertname="${alert}"`);
    params.append('filter', `service="${service}"`);
    const { status, body } = await fetchJson(`http://127.0.0.1:${s().ports.alertmanager}/api/v2/alerts?${params.toString()}`, {
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(status, 200);
    return body as unknown as AmAlert[];
  };

  /** When Prometheus made the alert active (pending, or firing for an alert without `for`), in epoch seconds. */
  const activeAt = async (alert: string, service: string, startsAt: string): Promise<number> => {
    const state = await promQuery(s(), `ALERTS_FOR_STATE{alertname="${alert}", service="${service}"}`);
    return state[0]?.value ?? Date.parse(startsAt) / 1000;
  };

  async function waitFired(drill: string, e: Expectation, since: number): Promise<Row> {
    const rule = rules.get(e.alert);
    assert.ok(rule, `no rule ${e.alert}`);
    const forS = seconds(rule.for);
    const wait = groupWait(rule.labels.severity);
    const bound = e.detect + forS + 2 * EVAL_S + wait + SLACK_S;
    const deadline = since + bound * 1000;
    for (;;) {
      if (e.inhibitedBy === undefined) {
        const got = (await notifications(e.alert)).find((n) => n.service === e.service && Date.parse(n.receivedAt) >= since);
        if (got !== undefined) {
          const received = Date.parse(got.receivedAt) / 1000;
          const deliveredIn = Math.round(received - (await activeAt(e.alert, e.service, got.startsAt)));
          assert.ok(deliveredIn <= forS + 2 * EVAL_S + wait + SLACK_S, `${e.alert} (${e.service}): delivered ${deliveredIn} s after it became active`);
          return { drill, alert: e.alert, service: e.service, via: 'receiver', firedAfter: Math.round(received - since / 1000), bound, deliveredIn, resolvedAfter: -1 };
        }
      }
      // Silenced by design: by the alert named in the expectation, or (a ticket) by a page of the same service that
      // another concurrent drill raised. Either way the alert reached Alertmanager and was routed.
      const suppressed = (await amAlerts(e.alert, e.service)).find((a) => a.status.state === 'suppressed' && a.status.inhibitedBy.length > 0);
      if (suppressed !== undefined) {
        const { body } = await fetchJson(`http://127.0.0.1:${s().ports.alertmanager}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) });
        const by = (body as unknown as AmAlert[])
          .filter((a) => suppressed.status.inhibitedBy.includes(a.fingerprint))
          .map((a) => `${a.labels.alertname ?? ''}(${a.labels.service ?? ''})`);
        if (e.inhibitedBy !== undefined) assert.ok(by.some((b) => b.startsWith(`${e.inhibitedBy}(`)), `${e.alert} suppressed by ${by.join(', ')}, not ${e.inhibitedBy}`);
        if (e.inhibitedBy !== undefined || by.length > 0) {
          return { drill, alert: e.alert, service: e.service, via: `inhibited by ${by.join(', ')}`, firedAfter: Math.round((Date.now() - since) / 1000), bound, deliveredIn: null, resolvedAfter: -1 };
        }
      }
      assert.ok(Date.now() < deadline, `${drill}: ${e.alert} (${e.service}) did not fire within ${bound} s`);
      await sleep(2000);
    }
  }

  /**
   * Resolved: gone from Alertmanager. A fast-burn SLO alert counts as resolved once its 1h+5m pair no longer holds
   * (the 5m SLI back under 14.4x the budget): its other pair, 6h+30m at 6x, keeps it firing for up to 30 minutes
   * after a burst on a stack younger than 6 hours, whose 6h window holds little else than that burst. With six hours
   * of healthy traffic behind it, the 6h ratio stays far below 6x and the alert resolves with its short window.
   */
  async function waitResolved(row: Row, e: Expectation, offAt: number): Promise<void> {
    if (e.resolve === undefined) return;
    const deadline = offAt + e.resolve * 1000;
    const slo = SLOS.find((x) => e.alert === `${x.alertName}BudgetBurnFast`);
    const holds = async () =>
      slo === undefined
        ? (await amAlerts(e.alert, e.service)).length > 0
        : (await promQuery(s(), `slo:sli_error:ratio_rate5m{slo="${slo.name}"} > ${14.4 * (1 - slo.objective)}`)).length > 0;
    while (await holds()) {
      assert.ok(Date.now() < deadline, `${row.drill}: ${e.alert} (${e.service}) did not resolve within ${e.resolve} s`);
      await sleep(2000);
    }
    row.resolvedAfter = Math.round((Date.now() - offAt) / 1000);
    if (slo !== undefined) row.via += ' (resolved: its 1h+5m pair)';
  }

  async function run(drill: Drill): Promise<void> {
    await sleep((drill.delay ?? 0) * 1000);
    const onAt = Date.now();
    await drill.on();
    const fired: Row[] = [];
    try {
      await Promise.all(drill.fires.map(async (e) => fired.push(await waitFired(drill.name, e, onAt))));
    } finally {
      rows.push(...fired);
      await drill.off();
    }
    const offAt = Date.now();
    await Promise.all((drill.firesAfterOff ?? []).map(async (e) => {
      const row = await waitFired(drill.name, e, offAt);
      rows.push(row);
      fired.push(row);
    }));
    const all = [...drill.fires, ...(drill.firesAfterOff ?? [])];
    await Promise.all(
      fired.map((row) => waitResolved(row, all.find((e) => e.alert === row.alert && e.service === row.service) as Expectation, offAt)),
    );
  }

  const report = (t: TestContext, phase: Row[]) => {
    for (const r of phase) {
      t.diagnostic(
        `${r.alert} (${r.service}) <- ${r.drill}: fired after ${r.firedAfter} s (bound ${r.bound} s), ${r.via}` +
          (r.deliveredIn === null ? '' : `, delivered ${r.deliveredIn} s after active`) +
          (r.resolvedAfter < 0 ? '' : `, resolved ${r.resolvedAfter} s after the fault ended`),
      );
    }
  };

  const httpFault = (service: string, fault: Record<string, unknown> & { name: string }) => ({
    on: () => startFault({ target: adminUrl(service), adminToken: s().adminToken, fault, durationSeconds: 1200 }).then(() => undefined),
    off: () => stopFault({ target: adminUrl(service), adminToken: s().adminToken, name: fault.name }).then(() => undefined),
  });
  const stopped = (...programs: string[]) => ({
    on: async () => {
      for (const p of programs) await control(s(), 'stop', p);
    },
    off: async () => {
      for (const p of programs) await control(s(), 'start', p);
    },
  });
  /**
   * A message parked in the dead-letter queue, as fulfillment parks an order event after its last attempt (its
   * own tests cover that path; here the consumer is paused by another drill). Purging resolves the alert.
   */
  const deadLetter = () => {
    const broker = () => amqp.connect(`amqp://guest:guest@127.0.0.1:${s().ports.rabbitmq}`);
    return {
      on: async () => {
        const connection = await broker();
        const channel = await connection.createConfirmChannel();
        channel.sendToQueue(topology.deadLetterQueue, Buffer.from('{"drill":"dead-lettered order event"}'), { contentType: 'application/json', persistent: true });
        await channel.waitForConfirms();
        await connection.close();
      },
      off: async () => {
        const connection = await broker();
        const channel = await connection.createChannel();
        await channel.purgeQueue(topology.deadLetterQueue);
        await connection.close();
      },
    };
  };

  // Scrape (15 s), the collector's export (about a second) and rule evaluation (15 s), with room for a busy machine.
  const DETECT = 150;
  const BURN_RESOLVE = 600;
  // Usually under a minute; after Postgres and RabbitMQ restart, up to 3 minutes were seen (the metrics path catching
  // up, issue 12).
  const CAUSE_RESOLVE = 360;
  const drills: Drill[] = [
    {
      name: 'gateway latency 600 ms on 30% of the requests',
      phase: 1,
      ...httpFault('gateway', { name: 'latency', ms: 600, ratio: 0.3 }),
      fires: [
        { alert: 'GatewayLatencyBudgetBurnFast', service: 'gateway', detect: DETECT, resolve: BURN_RESOLVE },
        // A ticket of the service that pages already: delivered, or silenced by that page.
        { alert: 'HttpLatencyHigh', service: 'gateway', detect: DETECT, resolve: BURN_RESOLVE },
      ],
    },
    {
      name: 'catalog errors on 10% of the requests',
      phase: 1,
      ...httpFault('catalog', { name: 'errors', ratio: 0.1, status: 500 }),
      fires: [
        { alert: 'GatewayAvailabilityBudgetBurnFast', service: 'gateway', detect: DETECT, resolve: BURN_RESOLVE },
        // 10% errors lift the 5m ratio over 5% after 2.5 minutes.
        { alert: 'HttpErrorRatioHigh', service: 'catalog', detect: DETECT + 150, resolve: BURN_RESOLVE },
      ],
    },
    {
      name: 'fulfillment consumer paused',
      phase: 1,
      ...httpFault('fulfillment', { name: 'consumer_paused' }),
      // Nothing must be consumed over the rule's 2-minute rate window first.
      fires: [{ alert: 'QueueConsumerStalled', service: 'fulfillment', detect: DETECT + 120, resolve: CAUSE_RESOLVE }],
      firesAfterOff: [{ alert: 'OrderFreshnessBudgetBurnFast', service: 'fulfillment', detect: DETECT, resolve: BURN_RESOLVE }],
    },
    {
      name: 'orders outbox publishing blocked',
      phase: 1,
      // After the paused consumer's stall is visible: blocked publishing would starve it of work to stall on.
      delay: 90,
      ...httpFault('orders', { name: 'publish_blocked' }),
      // The oldest unpublished event must first be a minute old.
      fires: [{ alert: 'OutboxLagHigh', service: 'orders', detect: DETECT + 60, resolve: CAUSE_RESOLVE }],
    },
    {
      name: 'a message in the dead-letter queue',
      phase: 1,
      ...deadLetter(),
      fires: [{ alert: 'DeadLetterQueueNotEmpty', service: 'fulfillment', detect: DETECT, resolve: CAUSE_RESOLVE }],
    },
    {
      name: 'Loki stopped',
      phase: 1,
      ...stopped('loki'),
      fires: [{ alert: 'TargetDown', service: 'loki', detect: DETECT, resolve: CAUSE_RESOLVE }],
    },
    {
      name: 'Redis stopped',
      phase: 1,
      ...stopped('redis'),
      fires: [
        { alert: 'RedisUnreachable', service: 'catalog', detect: DETECT, resolve: CAUSE_RESOLVE },
        { alert: 'RedisUnreachable', service: 'gateway', detect: DETECT, resolve: CAUSE_RESOLVE },
      ],
    },
    {
      name: 'Postgres and RabbitMQ stopped',
      phase: 2,
      ...stopped('postgres', 'rabbitmq'),
      fires: [
        { alert: 'PostgresUnreachable', service: 'catalog', detect: DETECT, resolve: CAUSE_RESOLVE },
        { alert: 'PostgresUnreachable', service: 'orders', detect: DETECT, resolve: CAUSE_RESOLVE },
        { alert: 'PostgresUnreachable', service: 'fulfillment', detect: DETECT, resolve: CAUSE_RESOLVE },
        { alert: 'BrokerUnreachable', service: 'orders', detect: DETECT, resolve: CAUSE_RESOLVE },
        { alert: 'BrokerUnreachable', service: 'fulfillment', detect: DETECT, resolve: CAUSE_RESOLVE },
        // RabbitMQ serves its own metrics: Prometheus loses that target too.
        { alert: 'TargetDown', service: 'rabbitmq', detect: DETECT, resolve: CAUSE_RESOLVE },
        // The gateway's errors while Postgres is gone: silenced by the cause. Its resolution is its burn rate's,
        // drilled in phase 1, and not awaited here.
        { alert: 'GatewayAvailabilityBudgetBurnFast', service: 'gateway', inhibitedBy: 'PostgresUnreachable', detect: DETECT },
      ],
    },
  ];

  it(`fires nothing but Watchdog under healthy load, nor goes pending after ${WARMUP_S} s of warm-up (${HEALTHY_S} s)`, async (t) => {
    const startedAt = Date.now();
    await sleep(WARMUP_S * 1000);
    const watchedFrom = Date.now();
    await sleep(HEALTHY_S * 1000);
    const name = (r: { metric: Record<string, string> }) => `${r.metric.alertname ?? ''}(${r.metric.service ?? ''})`;
    const since = (ms: number) => `${Math.ceil((Date.now() - ms) / 1000)}s`;
    const everFiring = await promQuery(s(), `max_over_time(ALERTS{alertname!="Watchdog", alertstate="firing"}[${since(startedAt)}])`);
    const warmUpPending = await promQuery(s(), `max_over_time(ALERTS{alertname!="Watchdog", alertstate="pending"}[${since(startedAt)}])`);
    const pending = await promQuery(s(), `max_over_time(ALERTS{alertname!="Watchdog", alertstate="pending"}[${since(watchedFrom)}])`);
    t.diagnostic(`pending at some point, warm-up included: ${warmUpPending.map(name).join(', ') || 'none'}`);
    assert.deepEqual(everFiring.map(name), [], 'alerts fired on a healthy stack');
    assert.deepEqual(pending.map(name), [], 'alerts went pending on a healthy, warm stack');
    const received = new Set((await notifications()).map((n) => n.alertname));
    assert.deepEqual([...received], ['Watchdog'], 'the receiver got other notifications than Watchdog');
  });

  for (const phase of [1, 2] as const) {
    const these = drills.filter((d) => d.phase === phase);
    it(`phase ${phase}: ${these.map((d) => d.name).join('; ')} -> each alert fires, then resolves`, async (t) => {
      const before = rows.length;
      const results = await Promise.allSettled(these.map((d) => run(d)));
      report(t, rows.slice(before));
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      assert.deepEqual(failures, []);
    });
  }

  // Grafana cannot run here: instead every query of every dashboard runs against the live backends over the whole
  // run (steady load, then the drills' faults), with real variable values, and must return data.
  it('every dashboard panel shows data: each query returns series, log lines or traces after the drills', async (t) => {
    const results = await checkDashboardData(s(), startedAt, Date.now());
    const empty = results.filter((r) => r.withValues === undefined);
    const panel = (r: { dashboard: string; panel: string }) => `${r.dashboard} / ${r.panel}`;
    const panels = new Set(results.map(panel));
    const withData = [...panels].filter((p) => !empty.some((r) => panel(r) === p));
    t.diagnostic(`${withData.length}/${panels.size} panels and variables with data; ${results.length - empty.length}/${results.length} queries`);
    assert.deepEqual(
      empty.map((r) => `${r.dashboard} / ${r.panel} [${r.refId}]: ${r.error ?? 'no data'} — ${r.query}`),
      [],
      'panels without data',
    );
  });
});
