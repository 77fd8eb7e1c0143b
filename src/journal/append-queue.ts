// Group commit: readings from every device that arrive in the same event-loop turn are committed
// in one transaction. On an SD card an fsync costs milliseconds, so this is what keeps throughput up.
// With an interval (buffer.commit_interval) the queue instead gathers readings for up to that long
// after the first of them: fewer, fuller transactions, so fewer pages written to the card and less
// CPU per reading, at the price of that much delay and of the readings still waiting being lost if
// the process is killed (flush() commits them on every orderly exit).
import type { AppendResult, Journal, NewEntry } from './journal.js';

export interface AppendQueueOptions {
  journal: Journal;
  /** Flush immediately once this many entries wait. */
  maxBatch?: number;
  /** Longest a reading waits for its commit, in ms; 0 (default) = commit at the end of the turn. */
  intervalMs?: number;
  /** Called after every commit with what was stored and dropped. */
  onCommit?: (result: AppendResult, attempted: number) => void;
  /** Called when the journal throws (the batch is lost; the error says why). */
  onError?: (err: unknown, lost: number) => void;
}

export class AppendQueue {
  private pending: NewEntry[] = [];
  private immediate: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly intervalMs: number;
  private readonly onDue = (): void => {
    this.immediate = undefined;
    this.timer = undefined;
    this.flush();
  };

  constructor(private readonly options: AppendQueueOptions) {
    this.maxBatch = options.maxBatch ?? 2000;
    this.intervalMs = options.intervalMs ?? 0;
  }

  push(entries: readonly NewEntry[]): void {
    if (entries.length === 0) return;
    for (const e of entries) this.pending.push(e);
    if (this.pending.length >= this.maxBatch) {
      this.flush();
    } else if (this.intervalMs > 0) {
      this.timer ??= setTimeout(this.onDue, this.intervalMs);
    } else {
      this.immediate ??= setImmediate(this.onDue);
    }
  }

  /** Commits everything pending now (also called on shutdown and at process exit). */
  flush(): void {
    if (this.immediate) clearImmediate(this.immediate);
    if (this.timer) clearTimeout(this.timer);
    this.immediate = undefined;
    this.timer = undefined;
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
