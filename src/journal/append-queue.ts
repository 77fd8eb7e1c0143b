// Group commit: readings from every device that arrive in the same event-loop turn are committed
// in one transaction. On an SD card an fsync costs milliseconds, so this is what keeps throughput up.
import type { AppendResult, Journal, NewEntry } from './journal.js';

export interface AppendQueueOptions {
  journal: Journal;
  /** Flush immediately once this many entries wait. */
  maxBatch?: number;
  /** Called after every commit with what was stored and dropped. */
  onCommit?: (result: AppendResult, attempted: number) => void;
  /** Called when the journal throws (the batch is lost; the error says why). */
  onError?: (err: unknown, lost: number) => void;
}

export class AppendQueue {
  private pending: NewEntry[] = [];
  private scheduled = false;
  private readonly maxBatch: number;

  constructor(private readonly options: AppendQueueOptions) {
    this.maxBatch = options.maxBatch ?? 2000;
  }

  push(entries: readonly NewEntry[]): void {
    if (entries.length === 0) return;
    for (const e of entries) this.pending.push(e);
    if (this.pending.length >= this.maxBatch) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits everything pending now (also called on shutdown). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    let result;
    try {
      result = this.options.journal.append(batch);
    } catch (err) {
      this.options.onError?.(err, batch.length);
      return;
    }
    this.options.onCommit?.(result, batch.length);
  }

  get size(): number {
    return this.pending.length;
  }
}
