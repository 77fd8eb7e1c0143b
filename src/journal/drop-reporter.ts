// Warn about dropped entries without letting a flood of drops flood the log: the first drop is
// logged at once, later ones are summed and logged at most once per interval. Both journals use it
// so the log reads the same whichever backs the gateway.
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import type { DropReason } from './journal.js';

export const DROP_LOG_INTERVAL_MS = 10_000;

export class DropReporter {
  private readonly pending: Record<DropReason, number> = { drop_oldest: 0, drop_newest: 0, purge: 0 };
  private pendingCalls = 0;
  private lastLogAt = Number.NEGATIVE_INFINITY;
  private lastCause: string | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs: number = DROP_LOG_INTERVAL_MS,
  ) {}

  /** Records drops of one call; `cause` says why (capacity, disk full, ...). */
  note(reason: DropReason, count: number, cause: string): void {
    if (count > 0) {
      this.pending[reason] += count;
      this.pendingCalls += 1;
      this.lastCause = cause;
    }
    // Also with nothing new: drops summed earlier are logged once their interval is over.
    this.flush(false);
  }

  /** Logs what is pending if the interval has passed (or always, with force). */
  flush(force: boolean): void {
    if (this.pendingCalls === 0) return;
    const now = this.clock.now();
    if (!force && now - this.lastLogAt < this.intervalMs) return;
    const dropped = { ...this.pending };
    this.logger.warn(
      { dropped, calls: this.pendingCalls, cause: this.lastCause },
      `journal dropped ${dropped.drop_oldest + dropped.drop_newest + dropped.purge} entries`,
    );
    this.pending.drop_oldest = 0;
    this.pending.drop_newest = 0;
    this.pending.purge = 0;
    this.pendingCalls = 0;
    this.lastLogAt = now;
  }
}
