// Removes acknowledged rows from the journal in batches: one transaction per batch instead of
// one per acknowledgement keeps the drain fast (a commit costs far more than a row). A batch is
// written once `maxRows` seqs are waiting or `delayMs` after the first of them, whichever comes
// first. Waiting seqs are only ever rows the broker acknowledged, so writing them late (or never,
// after a crash) costs a duplicate on the next start, never a loss.
import type { Logger } from 'pino';

export interface AckBatcherOptions {
  /** Deletes these seqs from the journal (Journal.remove). */
  remove(seqs: readonly number[]): void;
  maxRows: number;
  delayMs: number;
  logger: Logger;
}

export class AckBatcher {
  private waiting: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AckBatcherOptions) {}

  /** These rows were acknowledged: remove them with the next batch. */
  add(seqs: readonly number[]): void {
    for (const seq of seqs) this.waiting.push(seq);
    if (this.waiting.length >= this.options.maxRows) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.delayMs);
  }

  /** Removes everything waiting now (before a reset, at stop, before the journal closes). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length === 0) return;
    const seqs = this.waiting;
    this.waiting = [];
    try {
      this.options.remove(seqs);
    } catch (err) {
      // The rows stay journaled and are sent again: a duplicate, never a loss.
      this.options.logger.error({ err, count: seqs.length }, 'could not remove acknowledged messages from the journal');
    }
  }
}
