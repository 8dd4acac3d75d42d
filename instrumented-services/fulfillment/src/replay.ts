import { assertTopology, topology } from '@lookout/shop-contracts';
import type { ConfirmChannel, GetMessage, Options } from 'amqplib';
import { attemptOf, copyProperties, headerOf, headers, messageIdOf, replaysOf } from './message.js';

export interface ReplayOptions {
  /** At most this many messages (the oldest first). */
  limit: number;
  /** List what would be moved, move nothing: every message inspected goes back to the dead-letter queue. */
  dryRun: boolean;
  /** How long to wait for the broker to confirm one republished message. */
  confirmTimeoutMs: number;
}

export interface ReplayedMessage {
  messageId: string | undefined;
  /** Attempts made before it was dead-lettered. */
  attempts: number;
  failure: string | undefined;
  lastError: string | undefined;
}

function describe(msg: GetMessage): ReplayedMessage {
  const failure = headerOf(msg, headers.failure);
  const lastError = headerOf(msg, headers.lastError);
  return {
    messageId: messageIdOf(msg),
    attempts: Math.max(1, attemptOf(msg) - 1),
    failure: typeof failure === 'string' ? failure : undefined,
    lastError: typeof lastError === 'string' ? lastError : undefined,
  };
}

function sendConfirmed(channel: ConfirmChannel, queue: string, content: Buffer, options: Options.Publish, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the broker did not confirm within ${timeoutMs} ms`)), timeoutMs);
    channel.sendToQueue(queue, content, options, (err: unknown) => {
      clearTimeout(timer);
      if (err === null || err === undefined) resolve();
      else reject(err instanceof Error ? err : new Error('the broker refused the message'));
    });
  });
}

/**
 * Moves messages from the dead-letter queue back to the main queue, one at a time: each copy starts again at
 * attempt 1 (its attempt, last-error and failure headers removed, its replay count raised) and keeps its message
 * id, so the e-mail is not sent twice. A dead-lettered message is acknowledged only once the broker confirmed its
 * copy: if anything fails in between it stays in the dead-letter queue (a copy may then be in both queues;
 * processing is idempotent). Moves at most the messages in the queue when it starts. Returns the messages moved
 * (or, in a dry run, that would be).
 */
export async function replayDeadLetters(
  channel: ConfirmChannel,
  options: ReplayOptions,
  onMessage: (message: ReplayedMessage) => void = () => undefined,
): Promise<ReplayedMessage[]> {
  await assertTopology(channel);
  // Only what is there now: a message that fails again while the replay runs is dead-lettered again, and must
  // not be picked up and moved round in a loop.
  const { messageCount } = await channel.checkQueue(topology.deadLetterQueue);
  const limit = Math.min(options.limit, messageCount);
  const done: ReplayedMessage[] = [];
  const inspected: GetMessage[] = [];
  try {
    while (done.length < limit) {
      const msg = await channel.get(topology.deadLetterQueue, { noAck: false });
      if (msg === false) break;
      const described = describe(msg);
      if (options.dryRun) {
        // Held unacknowledged until the end, so that the next get returns the next message.
        inspected.push(msg);
      } else {
        const copy = copyProperties(msg, {
          [headers.attempt]: undefined,
          [headers.lastError]: undefined,
          [headers.failure]: undefined,
          [headers.replays]: replaysOf(msg) + 1,
        });
        await sendConfirmed(channel, topology.queue, msg.content, copy, options.confirmTimeoutMs);
        channel.ack(msg);
      }
      done.push(described);
      onMessage(described);
    }
  } finally {
    for (const msg of inspected) channel.nack(msg, false, true);
  }
  return done;
}
