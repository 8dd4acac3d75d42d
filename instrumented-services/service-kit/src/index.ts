export {
  ConfigError,
  envBool,
  envInt,
  envPort,
  envUrl,
  parseEnv,
  serviceEnv,
  serviceSettings,
  type ConfigIssue,
  type ServiceSettings,
} from './config.js';
export { FaultRegistry, faultAdminRoutes, faultSpec, type FaultName, type FaultSpec } from './faults.js';
export { assertTopology, connectRabbitMQ, rabbitmqCheck, rabbitmqEnv, topology } from './messaging.js';
export { runMigrations } from './migrations.js';
export { classifyPgError, isPgUnavailable } from './pg-errors.js';
export { createPgPool, inTransaction, isUniqueViolation, postgresEnv, postgresSettings, type PostgresSettings } from './postgres.js';
export {
  HttpProblem,
  notFoundHandler,
  problemErrorHandler,
  problems,
  requireJsonBody,
  sendProblem,
  validate,
  type ErrorLogger,
  type FieldError,
  type ProblemDetails,
} from './problem.js';
export { createRedis, redisEnv } from './redis.js';
export { createServiceApp, postgresCheck, runService } from './service.js';
