import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { down, stackSettings, up, type StackSettings } from '@lookout/native-stack';
import { freePort } from '@lookout/testkit';

const PORT_SETTINGS = [
  'PROMETHEUS_PORT', 'ALERTMANAGER_PORT', 'LOKI_PORT', 'LOKI_GRPC_PORT', 'TEMPO_PORT', 'TEMPO_GRPC_PORT',
  'TEMPO_OTLP_GRPC_PORT', 'TEMPO_OTLP_HTTP_PORT', 'TEMPO_MEMBERLIST_PORT', 'OTELCOL_GRPC_PORT', 'OTELCOL_HTTP_PORT',
  'OTELCOL_METRICS_PORT', 'OTELCOL_HEALTH_PORT', 'GATEWAY_PORT', 'CATALOG_PORT', 'ORDERS_PORT', 'FULFILLMENT_PORT',
  'POSTGRES_PORT', 'REDIS_PORT', 'RABBITMQ_PORT', 'RABBITMQ_DIST_PORT', 'RABBITMQ_METRICS_PORT',
] as const;

/** The whole native stack on free loopback ports and a temporary data directory, started as `npm run stack:up` does. */
export async function startStack(options: { loadgenRate?: number } = {}): Promise<StackSettings> {
  const env: NodeJS.ProcessEnv = {
    LOOKOUT_DATA_DIR: await mkdtemp(path.join(tmpdir(), 'lookout-stack-')),
    LOADGEN_RATE: String(options.loadgenRate ?? 5),
  };
  const taken = new Set<number>();
  for (const name of PORT_SETTINGS) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    env[name] = String(port);
  }
  const settings = stackSettings(env);
  await up(settings, { log: (line) => process.stderr.write(`# ${line}\n`) });
  return settings;
}

export async function stopStack(settings: StackSettings | undefined): Promise<void> {
  if (settings === undefined) return;
  await down(settings, () => undefined);
  await rm(settings.dataDir, { recursive: true, force: true });
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (an error page): kept as text for the message
  }
  return { status: res.status, body };
}
