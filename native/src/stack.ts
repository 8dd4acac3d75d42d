import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { databases, rewriteServiceUrls, serviceTargets } from '@lookout/stack';
import pg from 'pg';
import { probe } from './probes.js';
import { programs, type BinaryDirs, type Program } from './programs.js';
import { REPO, type StackSettings } from './settings.js';
import { isRoot, postgresBin, systemUserIds } from './system.js';
import { Supervisor, supervisorConfig } from './supervisor.js';

const exec = promisify(execFile);

const userIds = (user: string) => (isRoot() ? systemUserIds(user) : Promise.resolve(undefined));

/** Builds (or finds in the cache) every backend binary at the versions of versions.env. */
export async function ensureBinaries(log: (line: string) => void): Promise<BinaryDirs> {
  const script = path.join(REPO, 'native/build.sh');
  if (process.env.LOOKOUT_SKIP_BUILD === '1') return binaryDirs(script);
  log('backend binaries: building what the cache lacks (native/build.sh)…');
  const build = execFile('bash', [script], { maxBuffer: 64 * 1024 * 1024 });
  build.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.startsWith('[build')) log(`  ${line}`);
  });
  await new Promise<void>((resolve, reject) => {
    build.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`native/build.sh failed with ${code}`))));
  });
  return binaryDirs(script);
}

async function binaryDirs(script: string): Promise<BinaryDirs> {
  const { stdout } = await exec('bash', [script, '--print-dir']);
  const dirs: Partial<BinaryDirs> = {};
  for (const line of stdout.trim().split('\n')) {
    const [name, dir] = line.split(' ');
    if (name !== undefined && dir !== undefined) dirs[name as keyof BinaryDirs] = dir;
  }
  return dirs as BinaryDirs;
}

function write(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function link(target: string, at: string): void {
  rmSync(at, { force: true, recursive: false });
  symlinkSync(target, at);
}

/**
 * Prometheus reads the repository's prometheus.yml through a link in the data directory, so that targets/ (written
 * here from the settings) and rules/ resolve next to it, as compose mounts them next to the same file.
 */
export function preparePrometheus(s: StackSettings): void {
  const data = (...parts: string[]) => path.join(s.dataDir, ...parts);
  mkdirSync(data('prometheus', 'targets'), { recursive: true });
  link(path.join(REPO, 'prometheus/prometheus.yml'), data('prometheus', 'prometheus.yml'));
  link(path.join(REPO, 'prometheus/rules'), data('prometheus', 'rules'));
  const target = (name: string, port: number) =>
    write(data('prometheus', 'targets', `${name}.yml`), `# written by the native stack\n- targets: ["127.0.0.1:${port}"]\n`);
  target('prometheus', s.ports.prometheus);
  target('alertmanager', s.ports.alertmanager);
  target('otel-collector', s.ports.otelcolMetrics);
  target('loki', s.ports.loki);
  target('tempo', s.ports.tempo);
  target('postgres', s.ports.postgresExporter);
  target('redis', s.ports.redisExporter);
  target('rabbitmq', s.ports.rabbitmqMetrics);
}

/** Creates the data directory layout, the Postgres cluster and the per-run config the backends need. */
export async function prepare(s: StackSettings): Promise<void> {
  const data = (...parts: string[]) => path.join(s.dataDir, ...parts);
  for (const dir of ['logs', 'supervisor', 'redis', 'alertmanager', 'loki', 'tempo', 'otelcol', 'run']) {
    mkdirSync(data(dir), { recursive: true });
  }
  // Postgres and RabbitMQ run as their own users and must be able to reach their directories below this one.
  chmodSync(s.dataDir, 0o755);
  preparePrometheus(s);
  // Alertmanager's configuration, with its webhook receivers at the services' native ports.
  write(
    data('alertmanager', 'alertmanager.yml'),
    rewriteServiceUrls(readFileSync(path.join(REPO, 'alerts/alertmanager.yml'), 'utf8'), (name) => `127.0.0.1:${s.servicePorts[name] ?? 0}`),
  );
  // The collector scrapes every service of the stack model on its native port (the management port, if it has one).
  write(
    data('otelcol', 'service-targets.yml'),
    `# written by the native stack\n${serviceTargets((name) => `127.0.0.1:${s.managementPorts[name] ?? 0}`)}`,
  );

  const postgres = await userIds('postgres');
  if (!existsSync(data('postgres', 'PG_VERSION'))) {
    mkdirSync(data('postgres'), { recursive: true, mode: 0o700 });
    if (postgres) {
      chownSync(data('postgres'), postgres.uid, postgres.gid);
      chownSync(data('run'), postgres.uid, postgres.gid);
    }
    const initdb = [path.join(postgresBin(), 'initdb'), '-D', data('postgres'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C'];
    await (postgres ? exec('runuser', ['-u', 'postgres', '--', ...initdb]) : exec(initdb[0] as string, initdb.slice(1)));
  }

  const rabbit = await userIds('rabbitmq');
  mkdirSync(data('rabbitmq', 'mnesia'), { recursive: true });
  mkdirSync(data('rabbitmq', 'log'), { recursive: true });
  write(
    data('rabbitmq', 'rabbitmq.conf'),
    [
      `listeners.tcp.1 = 127.0.0.1:${s.ports.rabbitmq}`,
      `prometheus.tcp.port = ${s.ports.rabbitmqMetrics}`,
      'prometheus.tcp.ip = 127.0.0.1',
      'log.console = true',
      'log.console.level = warning',
      '',
    ].join('\n'),
  );
  write(data('rabbitmq', 'enabled_plugins'), '[rabbitmq_prometheus].\n');
  if (rabbit) {
    for (const p of ['rabbitmq', 'rabbitmq/mnesia', 'rabbitmq/log', 'rabbitmq/rabbitmq.conf', 'rabbitmq/enabled_plugins']) {
      chownSync(data(p), rabbit.uid, rabbit.gid);
    }
  }
}

async function ensureDatabases(port: number, names: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await client.connect();
  try {
    for (const name of names) {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await client.end();
  }
}

function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

async function waitReady(sup: Supervisor, program: Program, logsDir: string): Promise<number> {
  const started = performance.now();
  const deadline = started + program.readyTimeout * 1000;
  for (;;) {
    const state = await sup.state(program.name);
    if (state === 'FATAL' || state === 'EXITED' || state === 'BACKOFF') {
      throw new Error(`${program.name} is ${state}; last log lines:\n${tail(path.join(logsDir, `${program.name}.log`))}`);
    }
    if (state === 'RUNNING' && (await probe(program.ready))) return (performance.now() - started) / 1000;
    if (performance.now() > deadline) {
      throw new Error(`${program.name} not ready after ${program.readyTimeout} s; last log lines:\n${tail(path.join(logsDir, `${program.name}.log`))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function supervisorFor(s: StackSettings): Supervisor {
  return new Supervisor(path.join(s.dataDir, 'supervisor', 'supervisord.conf'), s.dataDir);
}

/** Starts the whole stack in order, waiting for each part to be ready; prints progress and the URLs. */
export async function up(s: StackSettings, options: { only?: readonly string[]; log: (line: string) => void }): Promise<Program[]> {
  const { log } = options;
  const bins = await ensureBinaries(log);
  await prepare(s);
  const all = programs(s, bins, process.execPath);
  const sup = supervisorFor(s);
  write(sup.configFile, supervisorConfig(s.dataDir, all));
  if (sup.running()) await sup.ctl('update');
  else await sup.daemon();
  const wanted = all.filter((p) => options.only === undefined || options.only.includes(p.name));
  for (const [i, program] of wanted.entries()) {
    const label = `[${String(i + 1).padStart(2)}/${wanted.length}] ${program.name.padEnd(15)}`;
    if ((await sup.state(program.name)) !== 'RUNNING') await sup.ctl('start', program.name);
    const seconds = await waitReady(sup, program, path.join(s.dataDir, 'logs'));
    log(`${label} ready in ${seconds.toFixed(1)} s`);
    if (program.name === 'postgres') await ensureDatabases(s.ports.postgres, databases());
  }
  log('');
  for (const program of wanted) if (program.url !== undefined) log(`  ${program.name.padEnd(15)} ${program.url}`);
  log(`  data and logs    ${s.dataDir}`);
  return wanted;
}

/** Stops every program (in reverse start order) and the supervisor itself. */
export async function down(s: StackSettings, log: (line: string) => void): Promise<void> {
  const sup = supervisorFor(s);
  if (!sup.running()) {
    log('the native stack is not running');
    return;
  }
  await sup.ctl('shutdown');
  const deadline = Date.now() + 120_000;
  while (sup.running()) {
    if (Date.now() > deadline) throw new Error('supervisord did not stop within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  log('the native stack is stopped');
}

export async function status(s: StackSettings): Promise<string> {
  const sup = supervisorFor(s);
  if (!sup.running()) return 'the native stack is not running\n';
  return sup.ctl('status');
}

/** Stops or starts one program (outage tests and drills). */
export async function control(s: StackSettings, action: 'stop' | 'start', name: string): Promise<void> {
  await supervisorFor(s).ctl(action, name);
}
