import winston from 'winston';
import { z } from 'zod';
import { serviceIdentity } from './identity.js';
import { redactRecord } from './redact.js';
import { isTelemetryStarted } from './sdk.js';

export type Logger = winston.Logger;

const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
const logLevel = z.enum(LEVELS);

/** LOG_LEVEL, validated: a typo fails start-up naming the setting instead of silently logging at another level. */
function levelFromEnv(): (typeof LEVELS)[number] {
  const raw = process.env.LOG_LEVEL?.trim();
  if (raw === undefined || raw === '') return 'info';
  const parsed = logLevel.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid configuration: LOG_LEVEL: expected one of ${LEVELS.join(', ')} (got "${raw}")`);
  return parsed.data;
}

export interface LoggerOptions {
  /** Overrides LOG_LEVEL. */
  level?: (typeof LEVELS)[number];
  /** Defaults to the service name of `serviceIdentity()`. */
  service?: string;
  /** Where the JSON lines go; stdout by default. */
  stream?: NodeJS.WritableStream;
}

const redact = winston.format((info) => redactRecord(info));

/**
 * A winston logger writing one JSON object per line: timestamp, level, service, message and the fields given.
 * Inside a span, the OTel winston instrumentation adds trace_id and span_id to each record and forwards it over
 * OTLP through the transport it attaches itself, so no OTLP transport is added here (that would send every
 * record twice). Secrets and e-mail addresses are redacted before any transport sees the record.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? levelFromEnv();
  /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
     winston's typings declare its built-in transports as interfaces, not as subclasses of TransportStream */
  const transport: winston.transport =
    options.stream === undefined
      ? new winston.transports.Console()
      : new winston.transports.Stream({ stream: options.stream });
  /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
  const logger = winston.createLogger({
    level,
    defaultMeta: { service: options.service ?? serviceIdentity().name },
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      redact(),
      winston.format.json(),
    ),
    transports: [transport],
  });
  if (!isTelemetryStarted()) {
    logger.warn('telemetry is not started: load @lookout/telemetry/register with node --require before the app');
  }
  return logger;
}
