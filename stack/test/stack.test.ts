import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { composeWiring, generatedFiles, REPO } from '../src/generate.js';
import { databases, service, serviceEnvironment, services, startOrder, validateModel } from '../src/model.js';

describe('the stack model', () => {
  it('is valid: unique names and ports, known dependencies, no cycle', () => {
    assert.doesNotThrow(validateModel);
  });

  it('starts every service after the services it calls and the ones it waits for', () => {
    const order = startOrder().map((s) => s.name);
    for (const s of services) {
      for (const dep of [...s.calls, ...(s.startsAfter ?? [])]) assert.ok(order.indexOf(dep) < order.indexOf(s.name), `${s.name} before ${dep}`);
    }
    assert.deepEqual(startOrder(['fulfillment']).map((s) => s.name), ['catalog', 'orders', 'fulfillment']);
  });

  it('derives each service\'s environment from what it uses', () => {
    const env = serviceEnvironment(service('orders'), composeWiring);
    // Its own role and password, required by compose (no default), on its own database.
    assert.equal(env.DATABASE_URL, 'postgres://orders:${ORDERS_DB_PASSWORD}@postgres:5432/orders');
    assert.equal(serviceEnvironment(service('fulfillment'), composeWiring).DATABASE_URL, 'postgres://fulfillment:${FULFILLMENT_DB_PASSWORD}@postgres:5432/orders');
    assert.equal(env.RABBITMQ_URL, 'amqp://lookout:${RABBITMQ_PASSWORD}@rabbitmq:5672');
    assert.equal(env.LOOKOUT_DEMO, '${LOOKOUT_DEMO:-false}');
    assert.equal(env.ADMIN_TOKEN, '${ADMIN_TOKEN:-}', 'no default admin token: /admin is off unless one is set');
    assert.equal(env.INBOUND_TRACE_CONTEXT, undefined, 'only the public edge applies an inbound trace policy');
    assert.equal(serviceEnvironment(service('gateway'), composeWiring).INBOUND_TRACE_CONTEXT, '${INBOUND_TRACE_CONTEXT:-link}');
    assert.equal(env.CATALOG_URL, 'http://catalog:8081');
    assert.equal(env.REDIS_URL, undefined);
    assert.equal(env.PORT, '8082');
    assert.deepEqual(databases(), ['catalog', 'orders']);
  });
});

describe('files generated from the stack model', () => {
  for (const [file, content] of Object.entries(generatedFiles())) {
    it(`${file} is up to date (npm run gen)`, () => {
      assert.equal(readFileSync(path.join(REPO, file), 'utf8'), content, `${file} is stale: run npm run gen`);
    });
  }

  it('lists every service of the model in compose and in the collector\'s scrape targets', () => {
    const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8')) as { services: Record<string, unknown> };
    const targets = parse(readFileSync(path.join(REPO, 'otel-collector/service-targets.compose.yml'), 'utf8')) as {
      targets: string[];
      labels: { job: string };
    }[];
    for (const s of services) {
      assert.ok(s.name in compose.services, s.name);
      assert.ok(targets.some((t) => t.labels.job === s.name && t.targets.includes(`${s.name}:${s.managementPort ?? s.port}`)), s.name);
    }
  });

  it('gives the public edge a management port that compose never publishes, and scrapes it there', () => {
    const gateway = service('gateway');
    assert.equal(gateway.public, true);
    assert.equal(gateway.managementPort, 9180);
    const env = serviceEnvironment(gateway, composeWiring);
    assert.equal(env.MANAGEMENT_PORT, '9180');
    // The collector reaches it over compose's network; nothing publishes it to the host.
    assert.equal(env.MANAGEMENT_HOST, '0.0.0.0');
    assert.equal(serviceEnvironment(service('orders'), composeWiring).MANAGEMENT_PORT, undefined, 'internal services serve everything on their port');
    const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { ports?: string[] }> };
    const published = Object.values(compose.services).flatMap((c) => c.ports ?? []);
    assert.ok(!published.some((p) => p.includes('9180')), JSON.stringify(published));
    assert.ok(compose.services.gateway?.ports?.some((p) => p.endsWith(':8080')), 'the API port is published');
  });
});
