// Counts taken on hot paths (every publish, every poll) as plain additions, handed to a
// prom-client counter when the metrics are read: prom-client's inc() works out the label set's
// key at every call, which profiled as an allocation per publish.
import type { Counter, LabelValues } from 'prom-client';

export class PendingCounts<T extends string> {
  private readonly byKey = new Map<string, { labels: LabelValues<T>; n: number }>();

  /** An adder for one label set; adders for the same labels share their count. */
  adder(labels: LabelValues<T>): (n?: number) => void {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let entry = this.byKey.get(key);
    if (!entry) {
      entry = { labels, n: 0 };
      this.byKey.set(key, entry);
    }
    const e = entry;
    return (n = 1) => {
      e.n += n;
    };
  }

  /** Adds what was counted since the last call to `counter` (its collect() hook calls this). */
  flushInto(counter: Counter<T>): void {
    for (const e of this.byKey.values()) {
      if (e.n === 0) continue;
      counter.inc(e.labels, e.n);
      e.n = 0;
    }
  }
}
