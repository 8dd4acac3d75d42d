import { timeDbOperation } from '@lookout/clients';
import { withoutTraceContext, type Logger } from '@lookout/telemetry';
import type pg from 'pg';

export interface RetentionOptions {
  /** Published outbox events are deleted this many hours after they were sent; unsent ones are never touched. */
  outboxHours: number;
  /** Idempotency keys are deleted this many hours after they were first used: the window in which a retry is honoured. */
  idempotencyKeyHours: number;
  intervalMs: number;
  /** Rows deleted per statement: each batch is a short transaction, so the tables' writers never wait long. */
  batchSize: number;
}

export interface RetentionRound {
  outbox: number;
  idempotencyKeys: number;
}

/**
 * One batch of expired rows, oldest first, deleted by their physical address. The ORDER BY keeps the choice on the
 * indexes of migration 1763800400000 (a scan of the table would pass over the dead rows of every batch before it);
 * SKIP LOCKED lets instances running the job at the same time take different rows instead of waiting for each
 * other. The outbox condition needs a sent_at, so an event never published stays however old it is (and the relay,
 * whose rows are unsent, is never waited for).
 */
const PURGES = [
  {
    table: 'outbox',
    operation: 'outbox.purge',
    sql: `DELETE FROM outbox WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM outbox
             WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(hours => $1)
             ORDER BY sent_at LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    hours: (o: RetentionOptions) => o.outboxHours,
  },
  {
    table: 'idempotency_keys',
    operation: 'idempotency_keys.purge',
    // The key only: the order it points at is the customer's record and stays.
    sql: `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM idempotency_keys
             WHERE created_at < now() - make_interval(hours => $1)
             ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    hours: (o: RetentionOptions) => o.idempotencyKeyHours,
  },
] as const;

/**
 * Deletes what orders no longer needs, every `intervalMs`: published outbox events past their retention, and
 * idempotency keys past the retry window (a retry after that creates a new order). Each table is purged in bounded
 * batches until none is left; a failure is logged and the next round tries again, it never stops the service.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: RetentionOptions,
    private readonly logger: Logger,
  ) {}

  /** A round now, then one `intervalMs` after each round ends. */
  start(): void {
    this.schedule(0);
  }

  /** One round over both tables; a table that fails is logged and does not keep the other from being purged. */
  async runOnce(): Promise<RetentionRound> {
    const outbox = await this.purge(PURGES[0]);
    const idempotencyKeys = await this.purge(PURGES[1]);
    if (outbox > 0 || idempotencyKeys > 0) {
      this.logger.info('retention: expired rows deleted', { outbox, idempotency_keys: idempotencyKeys });
    }
    return { outbox, idempotencyKeys };
  }

  private async purge(purge: (typeof PURGES)[number]): Promise<number> {
    let deleted = 0;
    try {
      for (;;) {
        const { rowCount } = await timeDbOperation(purge.operation, () =>
          this.pool.query(purge.sql, [purge.hours(this.options), this.options.batchSize]),
        );
        deleted += rowCount ?? 0;
        if ((rowCount ?? 0) < this.options.batchSize || this.stopped) return deleted;
      }
    } catch (err) {
      this.logger.warn('retention: purge failed; the next round tries again', {
        table: purge.table,
        deleted,
        err: err instanceof Error ? err.message : String(err),
      });
      return deleted;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    // Rounds belong to no request.
    this.timer = withoutTraceContext(() =>
      setTimeout(() => {
        this.running = this.runOnce()
          .catch((err: unknown) => {
            this.logger.warn('retention: round failed', { err: err instanceof Error ? err.message : String(err) });
          })
          .finally(() => {
            this.running = undefined;
            this.schedule(this.options.intervalMs);
          });
      }, delayMs),
    );
    // stop() ends the loop on shutdown; the timer alone never keeps the process alive.
    this.timer.unref();
  }

  /** No round starts after this; a round in progress ends after its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
