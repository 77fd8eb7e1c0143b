// The SQL for rows kept after delivery (buffer.keep_delivered; rules in keep-delivered.ts), kept
// apart from sqlite-store.ts so the append path there stays as it was. entries.delivered_at (epoch
// ms, NULL = not yet delivered) was added without a schema bump, like entries.encoding: an older
// fieldgate opens the file and sees delivered rows as a backlog, so it sends them again.
//
// All of it runs inside SqliteStore's transactions, which pass the counters in and out.
import type BetterSqlite3 from 'better-sqlite3';
import type { HeldEntry, JournalEntry } from './journal.js';
import { type StoredRow, toEntry } from './journal-schema.js';
import { type Counters, withCounts } from './journal-counters.js';
import { seqRuns } from './seq-runs.js';

/** Writes meta.last_seq if it is not there yet (SqliteStore's, run inside its transaction). */
type SaveSeq = (seq: number, c: Counters) => number;

/** Rows and their bytes affected by one statement. */
export interface RowsBytes {
  n: number;
  b: number;
}

// Runs of consecutive seqs at least this long are marked with one range UPDATE.
const RANGE_MARK_MIN = 8;

export class DeliveredRows {
  private readonly st;

  constructor(db: BetterSqlite3.Database, cols: string) {
    this.st = {
      markOne: db.prepare<[number, number], { size: number }>(
        'UPDATE entries SET delivered_at = ? WHERE seq = ? AND delivered_at IS NULL RETURNING size'),
      markRange: db.prepare<[number, number, number], { size: number }>(
        'UPDATE entries SET delivered_at = ? WHERE seq BETWEEN ? AND ? AND delivered_at IS NULL RETURNING size'),
      oldestSizes: db.prepare<[], { seq: number; size: number; at: number }>(
        'SELECT seq, size, delivered_at AS at FROM entries WHERE delivered_at IS NOT NULL ORDER BY seq'),
      deleteUpTo: db.prepare<[number]>('DELETE FROM entries WHERE seq <= ? AND delivered_at IS NOT NULL'),
      firstUndelivered: db.prepare<[number], number>(
        'SELECT seq FROM entries WHERE seq >= ? AND delivered_at IS NULL ORDER BY seq LIMIT 1').pluck(),
      readAfter: db.prepare<[number, number], StoredRow>(
        `SELECT ${cols} FROM entries WHERE seq > ? AND delivered_at IS NULL ORDER BY seq LIMIT ?`),
      readHeld: db.prepare<[number, number, number], StoredRow & { delivered: number }>(
        `SELECT ${cols}, delivered_at IS NOT NULL AS delivered FROM entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`),
      exportPage: db.prepare<[number, number, number, number], StoredRow>(
        `SELECT ${cols} FROM entries WHERE seq > ? AND ts >= ? AND ts < ? AND delivered_at IS NULL ORDER BY seq LIMIT ?`),
      oldestUndelivered: db.prepare<[number], { seq: number; ts: number }>(
        'SELECT seq, ts FROM entries WHERE seq >= ? AND delivered_at IS NULL ORDER BY seq LIMIT 1'),
      oldestDelivered: db.prepare<[], { seq: number; ts: number }>(
        'SELECT seq, ts FROM entries WHERE delivered_at IS NOT NULL ORDER BY seq LIMIT 1'),
      totals: db.prepare<[], { n: number; b: number }>(
        'SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM entries WHERE delivered_at IS NOT NULL'),
      minUndelivered: db.prepare<[], number | null>('SELECT min(seq) FROM entries WHERE delivered_at IS NULL').pluck(),
    };
  }

  /** remove() with keep_delivered: the rows are marked, and move from the backlog's counters to the delivered ones. */
  markDelivered(seqs: readonly number[], now: number, c: Counters): Counters {
    const marked = this.mark(seqs, now);
    // Kept tight, so the backlog's reads never walk the delivered history: a short scan from the
    // old bound over the rows just marked.
    const undeliveredFrom = this.firstUndelivered(c.undeliveredFrom, c.lastSeq + 1);
    return withCounts(c, {
      depth: c.depth - marked.n, bytes: c.bytes - marked.b, undeliveredFrom,
      deliveredDepth: c.deliveredDepth + marked.n, deliveredBytes: c.deliveredBytes + marked.b,
    });
  }

  /** Delivered rows make room (oldest first) for `rowsOver` rows and `bytesOver` bytes, as far as they go. */
  makeRoom(rowsOver: number, bytesOver: number, c: Counters, saveSeq: SaveSeq): { c: Counters; gone: RowsBytes } {
    if (c.deliveredDepth === 0 || (rowsOver <= 0 && bytesOver <= 0)) return { c, gone: { n: 0, b: 0 } };
    return this.deleted(this.evict(rowsOver, bytesOver), c, saveSeq);
  }

  /** Deletes the rows delivered at or before `cutoff` (keep-delivered.ts). */
  expire(cutoff: number, c: Counters, saveSeq: SaveSeq): { c: Counters; gone: RowsBytes } {
    if (c.deliveredDepth === 0) return { c, gone: { n: 0, b: 0 } };
    return this.deleted(this.evict(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, cutoff), c, saveSeq);
  }

  private deleted(gone: RowsBytes, c: Counters, saveSeq: SaveSeq): { c: Counters; gone: RowsBytes } {
    // The newest row may have been among them: the last seq must then live in meta. Written
    // after the DELETE, still inside the same transaction, so both commit or neither.
    const persistedSeq = gone.n > 0 ? saveSeq(c.lastSeq, c) : c.persistedSeq;
    return { c: withCounts(c, { persistedSeq, deliveredDepth: c.deliveredDepth - gone.n, deliveredBytes: c.deliveredBytes - gone.b }), gone };
  }

  /** Marks ascending, distinct seqs delivered at `now`; unknown or already delivered ones are skipped. */
  private mark(seqs: readonly number[], now: number): RowsBytes {
    let n = 0;
    let b = 0;
    const count = (rows: readonly { size: number }[]): void => {
      for (const r of rows) {
        n += 1;
        b += r.size;
      }
    };
    for (const { lo, hi } of seqRuns(seqs)) {
      if (hi - lo + 1 >= RANGE_MARK_MIN) count(this.st.markRange.all(now, lo, hi));
      else for (let seq = lo; seq <= hi; seq += 1) count(this.st.markOne.all(now, seq));
    }
    return { n, b };
  }

  /**
   * Deletes the oldest delivered rows until `rows` and `bytes` are both reached (capacity), or,
   * with `cutoff`, those delivered at or before it up to the first one delivered later (expiry).
   */
  evict(rows: number, bytes: number, cutoff = Number.POSITIVE_INFINITY): RowsBytes {
    let n = 0;
    let b = 0;
    let upTo: number | undefined;
    for (const r of this.st.oldestSizes.iterate()) {
      if (n >= rows && b >= bytes) break;
      if (r.at > cutoff) break;
      n += 1;
      b += r.size;
      upTo = r.seq;
    }
    if (upTo !== undefined) this.st.deleteUpTo.run(upTo);
    return { n, b };
  }

  /** The lowest undelivered seq at or above `from`, else `fallback`. */
  firstUndelivered(from: number, fallback: number): number {
    return this.st.firstUndelivered.get(from) ?? fallback;
  }

  readAfter(afterSeq: number, limit: number): JournalEntry[] {
    return this.st.readAfter.all(afterSeq, limit).map(toEntry);
  }

  readHeld(afterSeq: number, toSeq: number, limit: number): HeldEntry[] {
    return this.st.readHeld.all(afterSeq, toSeq, limit).map((r) => ({ ...toEntry(r), delivered: r.delivered === 1 }));
  }

  exportPage(afterSeq: number, since: number, until: number, limit: number): JournalEntry[] {
    return this.st.exportPage.all(afterSeq, since, until, limit).map(toEntry);
  }

  oldestUndelivered(from: number): { seq: number; ts: number } | undefined {
    return this.st.oldestUndelivered.get(from);
  }

  oldestDelivered(): { seq: number; ts: number } | undefined {
    return this.st.oldestDelivered.get();
  }

  /** Delivered rows and bytes, and where the undelivered ones start; O(rows), at open only. */
  load(lastSeq: number): { delivered: RowsBytes; undeliveredFrom: number } {
    const t = this.st.totals.get()!;
    return { delivered: { n: t.n, b: t.b }, undeliveredFrom: this.st.minUndelivered.get() ?? lastSeq + 1 };
  }
}
