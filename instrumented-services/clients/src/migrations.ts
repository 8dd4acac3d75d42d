import type { Logger } from '@lookout/telemetry';
import { runner } from 'node-pg-migrate';

/**
 * Applies a service's pending SQL migrations (node-pg-migrate, under its advisory lock, so instances starting
 * together migrate once). Each service keeps its own migrations table, so services sharing a database do not
 * see each other's history.
 */
export async function runMigrations(options: { databaseUrl: string; dir: string; table: string }, logger: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl: options.databaseUrl,
    dir: options.dir,
    direction: 'up',
    migrationsTable: options.table,
    count: Infinity,
    log: (message: string) => logger.debug(message),
  });
  logger.info('migrations applied', { table: options.table, count: applied.length, names: applied.map((m) => m.name) });
}
