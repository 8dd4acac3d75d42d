import type { Progress } from './runner.js';

/** Where progress goes: a terminal gets one line rewritten in place, anything else plain lines. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** One report: the last interval's request rate, errors and p99, then the run's totals. */
export function progressLine(p: Progress): string {
  const { interval, stats } = p;
  const rate = interval.completed / Math.max(interval.seconds, 0.001);
  return (
    `[${p.elapsedSeconds.toFixed(0).padStart(5)}s] ${rate.toFixed(1)} req/s (target ${p.targetRate.toFixed(1)}) | ` +
    `errors ${interval.errors} | p99 ${interval.latencyMs.p99} ms | in-flight ${p.inFlight} | ` +
    `total ${stats.completed} done, ${stats.errors} errors, ${stats.skipped} skipped`
  );
}

// Carriage return, then erase to the end of the line: a shorter line leaves nothing of the longer one before it.
const REWRITE = '\r\u001b[K';

/**
 * Writes progress reports to `stream`. On a terminal each report replaces the previous one in place; otherwise
 * (a log file, a container's output) each is a line of its own, which is why the caller reports less often there.
 */
export class ProgressReporter {
  private rewriting = false;

  constructor(private readonly stream: ProgressStream) {}

  get inPlace(): boolean {
    return this.stream.isTTY === true;
  }

  report(p: Progress): void {
    if (this.inPlace) {
      this.stream.write(`${REWRITE}${progressLine(p)}`);
      this.rewriting = true;
    } else {
      this.stream.write(`${progressLine(p)}\n`);
    }
  }

  /** Ends the line being rewritten, so that what is written next starts on a line of its own. */
  end(): void {
    if (this.rewriting) this.stream.write('\n');
    this.rewriting = false;
  }
}
