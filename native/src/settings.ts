import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../../..');

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
  return {
    dataDir,
    ports: {
      prometheus: port('PROMETHEUS_PORT', 9090),
      alertmanager: port('ALERTMANAGER_PORT', 9093),
      loki: port('LOKI_PORT', 3100),
      lokiGrpc: port('LOKI_GRPC_PORT', 9096),
      tempo: port('TEMPO_PORT', 3200),
      tempoGrpc: port('TEMPO_GRPC_PORT', 9097),
      tempoOtlpGrpc: port('TEMPO_OTLP_GRPC_PORT', 4417),
      tempoOtlpHttp: port('TEMPO_OTLP_HTTP_PORT', 4418),
      tempoMemberlist: port('TEMPO_MEMBERLIST_PORT', 7947),
      otelcolGrpc: port('OTELCOL_GRPC_PORT', 4317),
      otelcolHttp: port('OTELCOL_HTTP_PORT', 4318),
      otelcolMetrics: port('OTELCOL_METRICS_PORT', 8888),
      otelcolHealth: port('OTELCOL_HEALTH_PORT', 13133),
      gateway: port('GATEWAY_PORT', 8080),
      catalog: port('CATALOG_PORT', 8081),
      orders: port('ORDERS_PORT', 8082),
      fulfillment: port('FULFILLMENT_PORT', 8083),
      postgres: port('POSTGRES_PORT', 5432),
      redis: port('REDIS_PORT', 6379),
      rabbitmq: port('RABBITMQ_PORT', 5672),
      rabbitmqDist: port('RABBITMQ_DIST_PORT', 25672),
      rabbitmqMetrics: port('RABBITMQ_METRICS_PORT', 15692),
    },
    loadgenRate: (() => {
      const rate = Number(env.LOADGEN_RATE ?? 5);
      if (!Number.isFinite(rate) || rate < 0 || rate > 5000) throw new Error(`invalid configuration: LOADGEN_RATE: expected 0-5000 requests/s, got "${env.LOADGEN_RATE ?? ''}"`);
      return rate;
    })(),
    adminToken: env.ADMIN_TOKEN ?? 'lookout-local-admin-token',
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

/** The newest PostgreSQL server binaries from Debian's packages. */
export function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  for (const v of ['17', '16', '15', '14', '13']) {
    const dir = path.join(base, v, 'bin');
    if (existsSync(path.join(dir, 'postgres'))) return dir;
  }
  throw new Error('PostgreSQL server binaries not found: run scripts/install-system-deps.sh');
}
