import { createGauge, metrics, type Logger } from '@lookout/telemetry';
import type pg from 'pg';

export interface OutboxState {
  pending: number;
  /** Age of the oldest unsent event; 0 when none waits. */
  lagSeconds: number;
}

export interface OutboxMonitorOptions {
  intervalMs: number;
  /** Without a successful refresh for this long, the state is unknown. Default: three intervals. */
  staleAfterMs?: number;
  /** Milliseconds on a monotonic clock (tests pass their own). */
  now?: () => number;
}

/**
 * Pending count and lag in one query. `query_timeout` bounds it on the client side (it also ends when the server
 * hangs without answering, where the server's statement_timeout cannot help); pg declares it per query although
 * @types/pg does not. Waiting for a pooled connection is bounded by the pool's connect timeout.
 */
export function outboxStateReader(pool: pg.Pool, timeoutMs: number): () => Promise<OutboxState> {
  const query: pg.QueryConfig & { query_timeout: number } = {
    text: `SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age
             FROM outbox WHERE sent_at IS NULL`,
    query_timeout: timeoutMs,
  };
  return async () => {
    const { rows } = await pool.query<{ n: number; age: number | null }>(query);
    return { pending: rows[0]?.n ?? 0, lagSeconds: rows[0]?.age ?? 0 };
  };
}

/**
 * Reads the outbox state in the background, one read at a time, so that a scrape only reads memory: asking
 * Postgres at scrape time made /metrics wait on it, and fail, for as long as Postgres did (losing the RED metrics
 * of exactly that incident). A state older than `staleAfterMs` is no state: the gauges disappear while Postgres
 * cannot be asked, rather than repeat an old value.
 */
export class OutboxMonitor {
  private last: { state: OutboxState; at: number } | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  private readonly staleAfterMs: number;
  private readonly now: () => number;

  constructor(
    private readonly read: () => Promise<OutboxState>,
    private readonly options: OutboxMonitorOptions,
    private readonly logger?: Logger,
  ) {
    this.staleAfterMs = options.staleAfterMs ?? 3 * options.intervalMs;
    this.now = options.now ?? (() => performance.now());
  }

  /** Refreshes now, then `intervalMs` after each refresh ends. */
  start(): void {
    this.schedule(0);
  }

  /** The last state read, unless it is older than `staleAfterMs`. */
  current(): OutboxState | undefined {
    if (this.last === undefined || this.now() - this.last.at > this.staleAfterMs) return undefined;
    return this.last.state;
  }

  /** One read; a call while a read is in flight joins it instead of starting another. */
  refresh(): Promise<void> {
    this.inFlight ??= this.read()
      .then(
        (state) => {
          this.last = { state, at: this.now() };
          if (this.failing) this.logger?.info('outbox state read again');
          this.failing = false;
        },
        (err: unknown) => {
          // Once per streak of failures: Postgres being down is reported by its health check already.
          if (!this.failing) {
            this.logger?.warn('cannot read the outbox state; its gauges disappear until it can', {
              err: err instanceof Error ? err.message : String(err),
            });
          }
          this.failing = true;
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.refresh().then(() => {
        this.schedule(this.options.intervalMs);
      });
    }, delayMs);
    // stop() ends the loop on shutdown; the timer alone never keeps the process alive.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }
}

/** outbox_pending_messages and outbox_lag_seconds, read from `monitor` at scrape time (absent while it knows nothing). */
export function registerOutboxGauges(monitor: OutboxMonitor): void {
  // reset() would leave a gauge without labels at 0, which reads as an empty outbox; remove({}) drops its only
  // sample, so that the series is absent.
  createGauge(metrics.outboxPendingMessages, (gauge) => {
    const state = monitor.current();
    if (state === undefined) gauge.remove({});
    else gauge.set(state.pending);
  });
  createGauge(metrics.outboxLag, (gauge) => {
    const state = monitor.current();
    if (state === undefined) gauge.remove({});
    else gauge.set(state.lagSeconds);
  });
}
