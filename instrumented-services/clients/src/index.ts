export { runMigrations } from './migrations.js';
export { classifyPgError, isPgUnavailable } from './pg-errors.js';
export {
  createPgPool,
  inTransaction,
  withClient,
  isUniqueViolation,
  postgresCheck,
  postgresEnv,
  postgresSettings,
  timeDbOperation,
  type PostgresSettings,
} from './postgres.js';
export { connectRabbitMQ, rabbitmqCheck, rabbitmqEnv } from './rabbitmq.js';
export { createRedis, redisCheck, redisEnv } from './redis.js';
