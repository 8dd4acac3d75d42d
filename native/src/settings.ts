import { readFileSync } from 'node:fs';
import path from 'node:path';
import { INFRA, managementPortVariable, portVariable, services } from '@lookout/stack';

export const REPO = path.resolve(__dirname, '../../..');

/** The native stack's own ports (backends and infrastructure): setting key, variable, default. */
const PORTS = {
  prometheus: ['PROMETHEUS_PORT', 9090],
  alertmanager: ['ALERTMANAGER_PORT', 9093],
  loki: ['LOKI_PORT', 3100],
  lokiGrpc: ['LOKI_GRPC_PORT', 9096],
  tempo: ['TEMPO_PORT', 3200],
  tempoGrpc: ['TEMPO_GRPC_PORT', 9097],
  tempoOtlpGrpc: ['TEMPO_OTLP_GRPC_PORT', 4417],
  tempoOtlpHttp: ['TEMPO_OTLP_HTTP_PORT', 4418],
  tempoMemberlist: ['TEMPO_MEMBERLIST_PORT', 7947],
  otelcolGrpc: ['OTELCOL_GRPC_PORT', 4317],
  otelcolHttp: ['OTELCOL_HTTP_PORT', 4318],
  otelcolMetrics: ['OTELCOL_METRICS_PORT', 8888],
  otelcolHealth: ['OTELCOL_HEALTH_PORT', 13133],
  postgres: ['POSTGRES_PORT', INFRA.postgres.port],
  redis: ['REDIS_PORT', INFRA.redis.port],
  rabbitmq: ['RABBITMQ_PORT', INFRA.rabbitmq.port],
  rabbitmqDist: ['RABBITMQ_DIST_PORT', 25672],
  rabbitmqMetrics: ['RABBITMQ_METRICS_PORT', 15692],
  postgresExporter: ['POSTGRES_EXPORTER_PORT', 9187],
  redisExporter: ['REDIS_EXPORTER_PORT', 9121],
} as const satisfies Record<string, readonly [string, number]>;

/** Every port variable the native stack reads: its own, then one per service of the stack model. */
export function portVariables(): string[] {
  return [
    ...Object.values(PORTS).map(([variable]) => variable),
    ...services.map((s) => portVariable(s.name)),
    ...services.flatMap((s) => (s.managementPort === undefined ? [] : [managementPortVariable(s.name)])),
  ];
}

/** Every address of the native stack, from the environment with the documented defaults. */
export function stackSettings(env: NodeJS.ProcessEnv = process.env) {
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`invalid configuration: ${name}: expected a TCP port, got "${raw}"`);
    return n;
  };
  const dataDir = path.resolve(env.LOOKOUT_DATA_DIR ?? path.join(REPO, '.lookout'));
  const demoRaw = (env.LOOKOUT_DEMO ?? 'true').trim().toLowerCase();
  if (!['true', 'false', '1', '0'].includes(demoRaw)) throw new Error(`invalid configuration: LOOKOUT_DEMO: expected true or false, got "${env.LOOKOUT_DEMO ?? ''}"`);
  const demo = demoRaw === 'true' || demoRaw === '1';
  return {
    dataDir,
    ports: Object.fromEntries(Object.entries(PORTS).map(([key, [variable, fallback]]) => [key, port(variable, fallback)])) as Record<
      keyof typeof PORTS,
      number
    >,
    /** Each service of the stack model on `<NAME>_PORT`, by default its port in the model. */
    servicePorts: Object.fromEntries(services.map((s) => [s.name, port(portVariable(s.name), s.port)])) as Readonly<Record<string, number>>,
    /**
     * The port of each service's /metrics, /readyz and /admin: `<NAME>_MANAGEMENT_PORT` (by default the model's) for
     * a service with a management port, its service port for the others.
     */
    managementPorts: Object.fromEntries(
      services.map((s) => [s.name, s.managementPort === undefined ? port(portVariable(s.name), s.port) : port(managementPortVariable(s.name), s.managementPort)]),
    ) as Readonly<Record<string, number>>,
    loadgenRate: (() => {
      const rate = Number(env.LOADGEN_RATE ?? 5);
      if (!Number.isFinite(rate) || rate < 0 || rate > 5000) throw new Error(`invalid configuration: LOADGEN_RATE: expected 0-5000 requests/s, got "${env.LOADGEN_RATE ?? ''}"`);
      return rate;
    })(),
    /** The native stack is a local demo on loopback: demo mode unless LOOKOUT_DEMO=false (then set API_KEYS). */
    demo,
    // In demo mode the services' default admin token (http-kit's DEMO_ADMIN_TOKEN), which drills use to set faults.
    adminToken: env.ADMIN_TOKEN ?? (demo ? 'lookout-local-admin-token' : ''),
    inboundTraceContext: env.INBOUND_TRACE_CONTEXT ?? 'link',
  };
}

export type StackSettings = ReturnType<typeof stackSettings>;

/** versions.env as a map: the one source of version pins. */
export function versions(): Record<string, string> {
  const file = path.join(REPO, 'versions.env');
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m !== null) out[m[1] as string] = (m[2] as string).trim();
  }
  return out;
}
