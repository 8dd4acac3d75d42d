import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchJson, ShopStack, waitFor } from '@lookout/testkit';

const notification = (status: 'firing' | 'resolved') => ({
  version: '4',
  receiver: 'pager',
  status,
  groupKey: '{}:{alertname="GatewayAvailabilityBudgetBurnFast"}',
  alerts: [
    {
      status,
      labels: { alertname: 'GatewayAvailabilityBudgetBurnFast', severity: 'page', service: 'gateway' },
      annotations: { summary: 'gateway is burning its budget' },
      startsAt: '2026-11-22T23:00:00Z',
      fingerprint: 'abc123',
    },
  ],
});

describe('alert-receiver', () => {
  let stack: ShopStack;
  const post = (path: string, body: unknown) =>
    fetchJson(`${stack.service('alert-receiver').baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  before(async () => {
    stack = await ShopStack.start({ start: ['alert-receiver'] });
  });
  after(async () => {
    await stack.stop();
  });

  it('logs each alert of a notification and lists it', async () => {
    assert.equal((await post('/notify/pager', notification('firing'))).status, 202);
    assert.equal((await post('/notify/pager', notification('resolved'))).status, 202);
    const service = stack.service('alert-receiver');
    const line = await waitFor('the notification log line', () =>
      service.logs.find((l) => l.message === 'alert notification' && l.alert_status === 'firing'),
    );
    assert.equal(line.alertname, 'GatewayAvailabilityBudgetBurnFast');
    assert.equal(line.receiver, 'pager');
    assert.equal(line.level, 'warn');
    const listed = await fetchJson(`${service.baseUrl}/notifications?alertname=GatewayAvailabilityBudgetBurnFast`);
    const statuses = (listed.body.notifications as { status: string }[]).map((n) => n.status);
    assert.deepEqual(statuses, ['firing', 'resolved']);
  });

  it('refuses what is not an Alertmanager notification with a problem+json 400, and keeps nothing of it', async () => {
    const bad = await post('/notify/pager', { version: '3', alerts: 'x' });
    assert.equal(bad.status, 400);
    assert.match(bad.contentType, /problem\+json/);
    assert.equal((await post('/notify/Not_A_Receiver', notification('firing'))).status, 400);
    const listed = await fetchJson(`${stack.service('alert-receiver').baseUrl}/notifications?status=firing`);
    assert.equal((listed.body.notifications as unknown[]).length, 1);
    assert.equal((await fetchJson(`${stack.service('alert-receiver').baseUrl}/notifications?alertname=a%20b`)).status, 400);
  });
});
