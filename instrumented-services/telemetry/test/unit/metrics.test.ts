import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceFlags } from '@opentelemetry/api';
import { parseMetrics, TEST_SPAN_ID, TEST_TRACE_ID, useContextManager, withTestSpan } from '@lookout/testkit';
import { allMetrics, IDENTITY_LABELS } from '../../src/contract.js';
import { exemplarFor, registry } from '../../src/metrics.js';

const TRACE_ID = TEST_TRACE_ID;
const SPAN_ID = TEST_SPAN_ID;
const withSpan = withTestSpan;

describe('exemplarFor', () => {
  useContextManager();

  it('gives trace_id and span_id of a sampled span', () => {
    assert.deepEqual(
      withSpan(TraceFlags.SAMPLED, () => exemplarFor()),
      { trace_id: TRACE_ID, span_id: SPAN_ID },
    );
  });

  it('gives nothing for an unsampled span, whose trace would not resolve in the backend', () => {
    assert.equal(withSpan(TraceFlags.NONE, () => exemplarFor()), undefined);
  });

  it('gives nothing outside a span', () => {
    assert.equal(exemplarFor(), undefined);
  });

});

describe('the telemetry contract', () => {
  it('declares each metric once, named by the conventions of its type and unit', () => {
    const names = allMetrics.map((m) => m.name);
    assert.equal(new Set(names).size, names.length, 'a metric is declared twice');
    for (const m of allMetrics) {
      assert.match(m.name, /^[a-z][a-z0-9_]*$/, m.name);
      if (m.type === 'counter') assert.match(m.name, /_total$/, `${m.name}: a counter ends in _total`);
      if (m.type === 'histogram') assert.doesNotMatch(m.name, /_(total|bucket|count|sum)$/, m.name);
      if (m.unit === 's') assert.match(m.name, /_seconds(_total)?$/, `${m.name}: unit s means a _seconds suffix`);
      if (m.unit === 'By') assert.match(m.name, /_bytes(_total)?$/, `${m.name}: unit By means a _bytes suffix`);
      assert.ok(m.help.length > 10 && m.emittedBy.length > 0, m.name);
      for (const label of m.labels) assert.ok(!Object.values(IDENTITY_LABELS).includes(label as never), `${m.name}: ${label} is an identity label`);
    }
  });

  it('puts the service identity on every series', async () => {
    const samples = parseMetrics(await registry.metrics());
    assert.ok(samples.length > 0);
    for (const s of samples) {
      for (const label of Object.values(IDENTITY_LABELS)) assert.ok(s.labels[label], `${s.name} has no ${label}`);
    }
    assert.equal(samples[0]?.labels.service_namespace, 'lookout');
  });
});

describe('docs/telemetry.md', () => {
  it('is generated from the contract and up to date (npm run gen)', async () => {
    const { readFileSync } = await import('node:fs');
    const { telemetryDoc } = await import('../../src/docs.js');
    const file = new URL('../../../../../docs/telemetry.md', `file://${__filename}`);
    assert.equal(readFileSync(file, 'utf8'), telemetryDoc(), 'docs/telemetry.md is stale: run npm run gen');
    for (const m of allMetrics) assert.ok(telemetryDoc().includes(`\`${m.name}\``), m.name);
  });
});
