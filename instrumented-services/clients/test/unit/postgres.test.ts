import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceFlags } from '@opentelemetry/api';
import { registry } from '@lookout/telemetry';
import { parseMetrics, TEST_TRACE_ID, useContextManager, withTestSpan } from '@lookout/testkit';
import { classifyPgError, isPgUnavailable } from '../../src/pg-errors.js';
import { timeDbOperation } from '../../src/postgres.js';

const TRACE_ID = TEST_TRACE_ID;
const withSpan = withTestSpan;

describe('timeDbOperation', () => {
  useContextManager();

  it('times database operations with the trace as exemplar and the SQLSTATE as error_type', async () => {
    await withSpan(TraceFlags.SAMPLED, () => timeDbOperation('unit.ok', () => Promise.resolve(1)));
    const timeout = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    await assert.rejects(withSpan(TraceFlags.SAMPLED, () => timeDbOperation('unit.fail', () => Promise.reject(timeout))));
    await assert.rejects(withSpan(TraceFlags.SAMPLED, () => timeDbOperation('unit.fail', () => Promise.reject(new Error('x')))));
    const samples = parseMetrics(await registry.metrics());
    const count = (op: string, errorType: string) =>
      samples.find(
        (s) => s.name === 'db_client_operation_duration_seconds_count' && s.labels.db_operation_name === op && (s.labels.error_type ?? '') === errorType,
      )?.value;
    assert.equal(count('unit.ok', ''), 1, 'a success has an empty error_type');
    assert.equal(count('unit.fail', '57014'), 1);
    assert.equal(count('unit.fail', '_OTHER'), 1);
    const withExemplar = samples.find(
      (s) => s.name === 'db_client_operation_duration_seconds_bucket' && s.labels.db_operation_name === 'unit.ok' && s.exemplar,
    );
    assert.equal(withExemplar?.exemplar?.labels.trace_id, TRACE_ID);
  });
});

describe('Postgres error classification', () => {
  it('recognises outages by SQLSTATE, errno and node-postgres messages', () => {
    assert.ok(isPgUnavailable({ code: '57P01' }));
    assert.ok(isPgUnavailable({ code: 'ECONNREFUSED' }));
    assert.ok(isPgUnavailable(new Error('timeout exceeded when trying to connect')));
    assert.ok(isPgUnavailable({ errors: [{ code: 'ECONNREFUSED' }] }));
    assert.ok(!isPgUnavailable({ code: '23505' }));
    assert.ok(!isPgUnavailable(new Error('syntax error at or near "x"')));
  });

  it('leaves our own bugs unclassified, so they stay 500', () => {
    assert.equal(classifyPgError({ code: '42601' }), undefined);
    assert.equal(classifyPgError({ code: '57014' })?.status, 503);
  });
});
