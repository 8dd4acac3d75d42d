export { createServiceApp, runService } from './app.js';
export {
  checkDeadline,
  DEADLINE_MARGIN_MS,
  deadlineExceeded,
  parseRequestTimeout,
  remainingMs,
  REQUEST_TIMEOUT_HEADER,
  requestDeadline,
  runWithDeadline,
  withinDeadline,
} from './deadline.js';
export {
  errorsFault,
  FaultRegistry,
  faultAdminRoutes,
  HTTP_FAULTS,
  httpFaultSpec,
  latencyFault,
  type HttpFault,
  type NamedFault,
} from './faults.js';
export { healthRoutes, Lifecycle, readiness, type DependencyCheck, type ReadinessReport } from './health.js';
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
export { httpServerDuration, metricsHandler, requestTelemetry, routeLabel, routeTemplate, sampledForAccessLog, type AccessLogOptions } from './red.js';
export { serve, type RunningServer, type ServeOptions } from './serve.js';
export { isWellFormedText, text } from './text.js';
export { traceResponse } from './trace-response.js';
export { DEMO_ADMIN_TOKEN, serviceEnv, serviceSettings, type AccessLogLevel, type ServiceSettings } from './settings.js';
