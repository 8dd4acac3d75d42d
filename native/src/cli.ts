#!/usr/bin/env node
import { down, status, up } from './stack.js';
import { stackSettings } from './settings.js';

const USAGE = `Usage: lookout-stack up [program…] | down | status
Starts the Lookout stack as local processes under supervisord (Postgres, Redis, RabbitMQ, Prometheus, Alertmanager,
Loki, Tempo, the collector, the four services and a steady load), each once the previous is ready.
Ports: PROMETHEUS_PORT 9090, ALERTMANAGER_PORT 9093, LOKI_PORT 3100, TEMPO_PORT 3200, OTELCOL_GRPC_PORT 4317,
OTELCOL_HTTP_PORT 4318, GATEWAY_PORT 8080, CATALOG_PORT 8081, ORDERS_PORT 8082, FULFILLMENT_PORT 8083,
POSTGRES_PORT 5432, REDIS_PORT 6379, RABBITMQ_PORT 5672 (and the internal ones in native/src/settings.ts).
Data and logs: LOOKOUT_DATA_DIR (default .lookout/ in the repository). Steady load: LOADGEN_RATE (5 requests/s).`;

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const settings = stackSettings();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  switch (command) {
    case 'up':
      await up(settings, { ...(rest.length > 0 && { only: rest }), log });
      return;
    case 'down':
      await down(settings, log);
      return;
    case 'status':
      process.stdout.write(await status(settings));
      return;
    default:
      process.stderr.write(`${USAGE}\n`);
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`lookout-stack: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
