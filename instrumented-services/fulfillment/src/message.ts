import type { Message, Options } from 'amqplib';

/** Headers fulfillment keeps on an order event as it goes round the retry and dead-letter queues. */
export const headers = {
  /** The number of the next attempt (1 when absent); dependency outages do not count. */
  attempt: 'x-lookout-attempt',
  /** The error of the last failed attempt, for whoever reads the dead-letter queue. */
  lastError: 'x-lookout-last-error',
  /** Why it was dead-lettered: `invalid` (never retried) or `processing` (failed every attempt). */
  failure: 'x-lookout-failure',
  /** How many times the replay command moved it back from the dead-letter queue. */
  replays: 'x-lookout-replays',
} as const;

function positiveInt(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 ? n : fallback;
}

export function headerOf(msg: Message, name: string): unknown {
  const all: Record<string, unknown> = msg.properties.headers ?? {};
  return all[name];
}

export function attemptOf(msg: Message): number {
  return positiveInt(headerOf(msg, headers.attempt), 1);
}

export function replaysOf(msg: Message): number {
  return positiveInt(headerOf(msg, headers.replays), 0);
}

export function messageIdOf(msg: Message): string | undefined {
  const id: unknown = msg.properties.messageId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The properties to publish a copy of `msg` with (to the retry or dead-letter queue, or back from it): what
 * identifies it (message id: the e-mail is deduplicated by it), dates it (timestamp: the consumer lag) and traces
 * it (the trace context travels in its headers), persistent; `headerChanges` set (or, undefined, remove) headers.
 */
export function copyProperties(msg: Message, headerChanges: Record<string, unknown>): Options.Publish {
  const p: Partial<Record<string, unknown>> = { ...msg.properties };
  const str = (key: string) => { const v = p[key]; return typeof v === 'string' ? v : undefined; };
  const merged: Record<string, unknown> = { ...(msg.properties.headers ?? {}) };
  for (const [key, value] of Object.entries(headerChanges)) {
    if (value === undefined) Reflect.deleteProperty(merged, key);
    else merged[key] = value;
  }
  const options: Options.Publish = { persistent: true, headers: merged };
  const contentType = str('contentType');
  const contentEncoding = str('contentEncoding');
  const messageId = str('messageId');
  const type = str('type');
  const correlationId = str('correlationId');
  const appId = str('appId');
  if (contentType !== undefined) options.contentType = contentType;
  if (contentEncoding !== undefined) options.contentEncoding = contentEncoding;
  if (messageId !== undefined) options.messageId = messageId;
  if (type !== undefined) options.type = type;
  if (correlationId !== undefined) options.correlationId = correlationId;
  if (appId !== undefined) options.appId = appId;
  if (typeof p.timestamp === 'number') options.timestamp = p.timestamp;
  return options;
}
