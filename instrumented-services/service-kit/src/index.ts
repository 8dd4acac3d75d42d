export { ConfigError, envBool, envInt, envPort, envUrl, parseEnv, type ConfigIssue } from './config.js';
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
export { classifyPgError, isPgUnavailable } from './pg-errors.js';
