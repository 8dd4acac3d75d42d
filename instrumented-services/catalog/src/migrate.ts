import path from 'node:path';
import type { Logger } from '@lookout/telemetry';
import { runner } from 'node-pg-migrate';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../migrations');

/**
 * Applies pending migrations. node-pg-migrate holds an advisory lock meanwhile, so instances starting together
 * migrate once.
 */
export async function migrate(databaseUrl: string, logger: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    log: (message: string) => logger.debug(message),
  });
  logger.info('migrations applied', { count: applied.length, names: applied.map((m) => m.name) });
}
