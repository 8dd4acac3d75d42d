/**
 * Moves dead-lettered order events back to the queue fulfillment consumes (see README.md, "Replaying the
 * dead-letter queue"):
 *
 *   node instrumented-services/fulfillment/dist/src/replay-dlq.js [--limit N] [--dry-run]
 *
 * RABBITMQ_URL names the broker (default amqp://guest:guest@127.0.0.1:5672). Exit status 0 when done, 1 on an
 * error (the messages not yet moved stay in the dead-letter queue), 2 on bad arguments or settings.
 */
import { parseArgs } from 'node:util';
import { rabbitmqEnv } from '@lookout/clients';
import { ConfigError, envInt, parseEnv } from '@lookout/config';
import { topology } from '@lookout/shop-contracts';
import amqplib from 'amqplib';
import { z } from 'zod';
import { replayDeadLetters, type ReplayedMessage } from './replay.js';

const USAGE = 'usage: replay-dlq [--limit N] [--dry-run]';

const envSchema = z.object({
  ...rabbitmqEnv,
  REPLAY_CONFIRM_TIMEOUT_MS: envInt(10_000, 100, 600_000),
});

const argsSchema = z.object({
  limit: z.coerce.number().int('--limit: expected a whole number').min(1, '--limit: expected at least 1').default(Number.MAX_SAFE_INTEGER),
  'dry-run': z.boolean().default(false),
  help: z.boolean().default(false),
});

export function parseReplayArgs(argv: readonly string[]): z.infer<typeof argsSchema> {
  const { values } = parseArgs({
    args: [...argv],
    options: { limit: { type: 'string' }, 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

function line(verb: string, m: ReplayedMessage): string {
  const parts = [`message_id=${m.messageId ?? '-'}`, `attempts=${m.attempts}`, `failure=${m.failure ?? '-'}`];
  if (m.lastError !== undefined) parts.push(`last_error=${JSON.stringify(m.lastError)}`);
  return `${verb} ${parts.join(' ')}`;
}

async function main(): Promise<number> {
  let args: z.infer<typeof argsSchema>;
  let env: z.infer<typeof envSchema>;
  try {
    args = parseReplayArgs(process.argv.slice(2));
    env = parseEnv(envSchema);
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\nMoves messages from ${topology.deadLetterQueue} back to ${topology.queue}.\n`);
    return 0;
  }
  const connection = await amqplib.connect(env.RABBITMQ_URL);
  try {
    const channel = await connection.createConfirmChannel();
    const verb = args['dry-run'] ? 'would move' : 'moved';
    const done = await replayDeadLetters(
      channel,
      { limit: args.limit, dryRun: args['dry-run'], confirmTimeoutMs: env.REPLAY_CONFIRM_TIMEOUT_MS },
      (m) => process.stdout.write(`${line(verb, m)}\n`),
    );
    const summary = args['dry-run']
      ? `dry run: ${done.length} message(s) in ${topology.deadLetterQueue} would be moved to ${topology.queue}; none moved`
      : `moved ${done.length} message(s) from ${topology.deadLetterQueue} to ${topology.queue}`;
    process.stdout.write(`${summary}\n`);
    await channel.close();
    return 0;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`replay-dlq failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
