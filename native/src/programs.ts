import path from 'node:path';
import { serviceEnvironment, startOrder, type Wiring } from '@lookout/stack';
import { REPO, type StackSettings } from './settings.js';
import { postgresBin } from './system.js';

export type Probe =
  | { kind: 'http'; url: string }
  | { kind: 'tcp'; port: number }
  | { kind: 'postgres'; port: number };

/** One supervised process of the native stack. */
export interface Program {
  name: string;
  command: string[];
  env: Record<string, string>;
  /** System user to run as (when the supervisor runs as root), for servers that refuse root. */
  user?: string;
  ready: Probe;
  /** Seconds to wait for `ready` after starting. */
  readyTimeout: number;
  stopSignal?: 'TERM' | 'INT';
  /** Shown in the summary when set. */
  url?: string;
}

/** Directories of the built backend binaries, as native/build.sh reports them. */
export type BinaryDirs = Record<'alertmanager' | 'prometheus' | 'otelcol' | 'loki' | 'tempo' | 'pint' | 'compose' | 'helm', string>;

const local = (port: number) => `127.0.0.1:${port}`;

/**
 * The stack in start order: infrastructure, backends, collector, services, load. Every address is loopback and
 * comes from the settings; the backends read the same config files as docker-compose, with addresses from env.
 */
export function programs(s: StackSettings, bins: BinaryDirs, node: string): Program[] {
  const p = s.ports;
  const data = (...parts: string[]) => path.join(s.dataDir, ...parts);
  const service = (name: string) => path.join(REPO, 'instrumented-services', name, 'dist/src/main.js');
  const register = path.join(REPO, 'instrumented-services/telemetry/dist/src/register.js');
  const redisUrl = `redis://${local(p.redis)}`;
  const servicePort = (name: string) => s.servicePorts[name] ?? 0;
  const wiring: Wiring = {
    environment: 'native',
    host: '127.0.0.1',
    otlpEndpoint: `http://${local(p.otelcolHttp)}`,
    demo: String(s.demo),
    adminToken: s.adminToken,
    inboundTraceContext: s.inboundTraceContext,
    port: (spec) => servicePort(spec.name),
    managementPort: (spec) => s.managementPorts[spec.name] ?? 0,
    managementHost: '127.0.0.1',
    postgresUrl: (db) => `postgres://postgres@${local(p.postgres)}/${db}`,
    redisUrl,
    rabbitmqUrl: `amqp://guest:guest@${local(p.rabbitmq)}`,
    serviceUrl: (name) => `http://${local(servicePort(name))}`,
  };
  // The shop, from the stack model, each service after the ones it needs.
  const shop = startOrder().map(
    (spec): Program => ({
      name: spec.name,
      command: [node, '--require', register, service(spec.name)],
      env: serviceEnvironment(spec, wiring),
      // /readyz is on the management port of a service that has one (the public edge).
      ready: { kind: 'http', url: `http://${local(s.managementPorts[spec.name] ?? 0)}/readyz` },
      readyTimeout: 60,
      url: `http://${local(servicePort(spec.name))}`,
    }),
  );

  const all: Program[] = [
    {
      name: 'postgres',
      command: [
        path.join(postgresBin(), 'postgres'),
        '-D', data('postgres'),
        '-p', String(p.postgres),
        '-k', data('run'),
        '-c', 'listen_addresses=127.0.0.1',
      ],
      env: {},
      user: 'postgres',
      ready: { kind: 'postgres', port: p.postgres },
      readyTimeout: 60,
      stopSignal: 'INT',
      url: `postgres://postgres@${local(p.postgres)}`,
    },
    {
      name: 'redis',
      command: [
        'redis-server', '--port', String(p.redis), '--bind', '127.0.0.1', '--dir', data('redis'), '--save', '60 1000', '--appendonly', 'no',
        '--maxmemory', '256mb', '--maxmemory-policy', 'allkeys-lru',
      ],
      env: {},
      ready: { kind: 'tcp', port: p.redis },
      readyTimeout: 30,
      url: redisUrl,
    },
    {
      name: 'rabbitmq',
      // The real script, not Debian's wrapper: the supervisor already runs it as the rabbitmq user.
      command: ['/usr/lib/rabbitmq/bin/rabbitmq-server'],
      env: {
        HOME: '/var/lib/rabbitmq',
        RABBITMQ_NODENAME: `lookout-${p.rabbitmq}@localhost`,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(p.rabbitmq),
        RABBITMQ_DIST_PORT: String(p.rabbitmqDist),
        RABBITMQ_MNESIA_BASE: data('rabbitmq', 'mnesia'),
        RABBITMQ_LOG_BASE: data('rabbitmq', 'log'),
        RABBITMQ_CONFIG_FILE: data('rabbitmq', 'rabbitmq'),
        RABBITMQ_ENABLED_PLUGINS_FILE: data('rabbitmq', 'enabled_plugins'),
      },
      user: 'rabbitmq',
      ready: { kind: 'tcp', port: p.rabbitmq },
      readyTimeout: 90,
      url: `amqp://${local(p.rabbitmq)} (metrics http://${local(p.rabbitmqMetrics)}/metrics)`,
    },
    // The servers' own metrics, scraped by Prometheus like the backends (Debian's exporters, loopback only).
    {
      name: 'postgres-exporter',
      command: ['prometheus-postgres-exporter', `--web.listen-address=${local(p.postgresExporter)}`],
      env: { DATA_SOURCE_NAME: `postgresql://postgres@${local(p.postgres)}/postgres?sslmode=disable` },
      ready: { kind: 'http', url: `http://${local(p.postgresExporter)}/metrics` },
      readyTimeout: 30,
      url: `http://${local(p.postgresExporter)}/metrics`,
    },
    {
      name: 'redis-exporter',
      command: ['prometheus-redis-exporter', `--redis.addr=${redisUrl}`, `--web.listen-address=${local(p.redisExporter)}`],
      env: {},
      ready: { kind: 'http', url: `http://${local(p.redisExporter)}/metrics` },
      readyTimeout: 30,
      url: `http://${local(p.redisExporter)}/metrics`,
    },
    {
      name: 'prometheus',
      command: [
        path.join(bins.prometheus, 'prometheus'),
        `--config.file=${data('prometheus', 'prometheus.yml')}`,
        `--storage.tsdb.path=${data('prometheus', 'tsdb')}`,
        '--storage.tsdb.retention.time=7d',
        `--web.listen-address=${local(p.prometheus)}`,
        '--web.enable-remote-write-receiver',
        '--web.enable-otlp-receiver',
        '--enable-feature=exemplar-storage',
      ],
      env: {},
      ready: { kind: 'http', url: `http://${local(p.prometheus)}/-/ready` },
      readyTimeout: 60,
      url: `http://${local(p.prometheus)}`,
    },
    {
      name: 'alertmanager',
      command: [
        path.join(bins.alertmanager, 'alertmanager'),
        `--config.file=${data('alertmanager', 'alertmanager.yml')}`,
        `--storage.path=${data('alertmanager')}`,
        `--web.listen-address=${local(p.alertmanager)}`,
        '--cluster.listen-address=',
      ],
      env: {},
      ready: { kind: 'http', url: `http://${local(p.alertmanager)}/-/ready` },
      readyTimeout: 30,
      url: `http://${local(p.alertmanager)}`,
    },
    {
      name: 'loki',
      command: [path.join(bins.loki, 'loki'), `-config.file=${path.join(REPO, 'loki/loki.yaml')}`, '-config.expand-env=true'],
      env: {
        LOKI_HTTP_ADDRESS: '127.0.0.1',
        LOKI_HTTP_PORT: String(p.loki),
        LOKI_GRPC_ADDRESS: '127.0.0.1',
        LOKI_GRPC_PORT: String(p.lokiGrpc),
        LOKI_DATA_DIR: data('loki'),
        ALERTMANAGER_URL: `http://${local(p.alertmanager)}`,
      },
      ready: { kind: 'http', url: `http://${local(p.loki)}/ready` },
      readyTimeout: 90,
      url: `http://${local(p.loki)}`,
    },
    {
      name: 'tempo',
      command: [path.join(bins.tempo, 'tempo'), `-config.file=${path.join(REPO, 'tempo/tempo.yaml')}`, '-config.expand-env=true'],
      env: {
        TEMPO_HTTP_ADDRESS: '127.0.0.1',
        TEMPO_HTTP_PORT: String(p.tempo),
        TEMPO_GRPC_ADDRESS: '127.0.0.1',
        TEMPO_GRPC_PORT: String(p.tempoGrpc),
        TEMPO_OTLP_GRPC_ENDPOINT: local(p.tempoOtlpGrpc),
        TEMPO_OTLP_HTTP_ENDPOINT: local(p.tempoOtlpHttp),
        TEMPO_MEMBERLIST_PORT: String(p.tempoMemberlist),
        TEMPO_MEMBERLIST_ADDRESS: '127.0.0.1',
        TEMPO_DATA_DIR: data('tempo'),
        PROMETHEUS_REMOTE_WRITE_URL: `http://${local(p.prometheus)}/api/v1/write`,
      },
      ready: { kind: 'http', url: `http://${local(p.tempo)}/ready` },
      readyTimeout: 120,
      url: `http://${local(p.tempo)}`,
    },
    {
      name: 'otel-collector',
      command: [path.join(bins.otelcol, 'otelcol-lookout'), `--config=${path.join(REPO, 'otel-collector/config.yaml')}`],
      env: {
        OTELCOL_HEALTH_ENDPOINT: local(p.otelcolHealth),
        OTELCOL_MEMORY_LIMIT_MIB: '400',
        OTELCOL_MEMORY_SPIKE_MIB: '100',
        OTELCOL_STORAGE_DIR: data('otelcol'),
        OTELCOL_OTLP_GRPC_ENDPOINT: local(p.otelcolGrpc),
        OTELCOL_OTLP_HTTP_ENDPOINT: local(p.otelcolHttp),
        OTELCOL_METRICS_HOST: '127.0.0.1',
        OTELCOL_METRICS_PORT: String(p.otelcolMetrics),
        TEMPO_OTLP_GRPC_ENDPOINT: local(p.tempoOtlpGrpc),
        LOKI_OTLP_ENDPOINT: `http://${local(p.loki)}/otlp`,
        PROMETHEUS_OTLP_METRICS_URL: `http://${local(p.prometheus)}/api/v1/otlp/v1/metrics`,
        OTELCOL_SERVICE_TARGETS_FILE: data('otelcol', 'service-targets.yml'),
      },
      ready: { kind: 'http', url: `http://${local(p.otelcolHealth)}/` },
      readyTimeout: 60,
      url: `otlp grpc ${local(p.otelcolGrpc)}, http ${local(p.otelcolHttp)} (metrics http://${local(p.otelcolMetrics)}/metrics)`,
    },
    ...shop,
    {
      name: 'loadgen',
      command: [
        node,
        path.join(REPO, 'instrumented-services/loadgen/dist/src/cli.js'),
        'run', '--profile', 'steady', '--rate', String(s.loadgenRate), '--duration', '0', '--base-url', `http://${local(servicePort('gateway'))}`,
      ],
      env: {},
      ready: { kind: 'http', url: `http://${local(servicePort('gateway'))}/healthz` },
      readyTimeout: 10,
    },
  ];
  // LOADGEN_RATE=0: the stack without background traffic (benchmarks, manual exploration).
  return s.loadgenRate > 0 ? all : all.filter((p) => p.name !== 'loadgen');
}
