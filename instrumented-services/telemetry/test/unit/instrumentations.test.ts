import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { instrumentationConfig } from '../../src/sdk.js';

const VARIABLES = ['OTEL_NODE_ENABLED_INSTRUMENTATIONS', 'OTEL_NODE_DISABLED_INSTRUMENTATIONS'] as const;

/** The instrumentations the SDK would load under `env`, by package name. */
function loaded(env: Partial<Record<(typeof VARIABLES)[number], string>>): string[] {
  for (const name of VARIABLES) {
    if (env[name] === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = env[name];
  }
  return getNodeAutoInstrumentations(instrumentationConfig(process.env)).map((i) => i.instrumentationName);
}

describe('instrumentations', () => {
  afterEach(() => {
    for (const name of VARIABLES) Reflect.deleteProperty(process.env, name);
  });

  it('loads every library the auto-instrumentations know, so a new dependency is traced without a change here', () => {
    const names = loaded({});
    for (const lib of ['http', 'express', 'pg', 'ioredis', 'amqplib', 'undici', 'winston', 'kafkajs', 'mongodb']) {
      assert.ok(names.includes(`@opentelemetry/instrumentation-${lib}`), lib);
    }
  });

  it('leaves fs, dns, net, router and the runtime metrics off by default', () => {
    const names = loaded({});
    for (const lib of ['fs', 'dns', 'net', 'runtime-node', 'router']) assert.ok(!names.includes(`@opentelemetry/instrumentation-${lib}`), lib);
    assert.ok(loaded({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,express,router' }).includes('@opentelemetry/instrumentation-router'));
  });

  it('honours OTEL_NODE_DISABLED_INSTRUMENTATIONS and OTEL_NODE_ENABLED_INSTRUMENTATIONS', () => {
    assert.ok(!loaded({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg,ioredis' }).includes('@opentelemetry/instrumentation-pg'));
    assert.deepEqual(loaded({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,dns' }).sort(), [
      '@opentelemetry/instrumentation-dns',
      '@opentelemetry/instrumentation-http',
    ]);
  });
});
