// The newest rows the journal committed, kept in memory so that the forwarder, which normally
// reads exactly what was just appended, gets them without a SELECT (profiled: reading back the
// rows just written was the largest single cost of live forwarding). It is only a copy: rows are
// committed first and cached after COMMIT, so nothing is published that is not journaled, and
// anything the cache cannot vouch for is read from the file.
//
// What the cache holds is always a run of consecutive seqs, every one of them still in the file:
// - added() after each commit; a run that does not continue the cached one starts a new one;
// - dropThrough(seq) when acknowledged rows leave the file: every cached row up to the highest
//   removed seq goes (the forwarder has read past them; reading them again goes to the file);
// - dropThrough(seq) as well when the forwarder asks for rows after a seq: it holds every row up
//   to it and asks again only after a rewind, which reads the file. Dropping them then, not a
//   second later when their acknowledgements are removed, means a row and its payload die young
//   in V8's heap instead of being promoted to the old generation (at 1,000 readings/s in JSON
//   mode that was what kept the full collections coming);
// - clear() whenever rows may have left the file in another way (eviction, purge, a reload after
//   another process wrote, a corrupt file replaced, close);
// - at most `maxRows` rows and `maxBytes` payload bytes; the oldest go first, and reads from
//   before them go to the file.
import type { JournalEntry } from './journal.js';

export class RecentRows {
  private rows: JournalEntry[] = [];
  /** Index of the first live row in `rows` (dropping from the front is O(1) until compaction). */
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly maxRows: number,
    private readonly maxBytes: number,
  ) {}

  /**
   * Rows just committed, ascending seq. Returns the copies it keeps (readers never modify rows),
   * so the journal can hand the same objects to the forwarder.
   */
  added(rows: readonly JournalEntry[]): JournalEntry[] {
    if (rows.length === 0) return [];
    const last = this.rows.length > this.head ? this.rows[this.rows.length - 1]!.seq : undefined;
    if (last !== undefined && rows[0]!.seq !== last + 1) this.clear();
    const copies: JournalEntry[] = [];
    for (const r of rows) {
      // Its own object: a committed row may carry more (the store's size) than readers see.
      const copy = { seq: r.seq, ts: r.ts, topic: r.topic, qos: r.qos, retain: r.retain, encoding: r.encoding, payload: r.payload };
      copies.push(copy);
      this.rows.push(copy);
      this.bytes += r.payload.length;
    }
    while (this.rows.length - this.head > this.maxRows || (this.bytes > this.maxBytes && this.head < this.rows.length)) this.dropFirst();
    this.compact();
    return copies;
  }

  /** Nobody needs the rows up to `maxSeq` from here: they left the file, or the reader has them. */
  dropThrough(maxSeq: number): void {
    const first = this.firstSeq();
    if (first === undefined || maxSeq < first) return;
    const end = Math.min(this.rows.length, this.head + (maxSeq - first + 1));
    while (this.head < end) this.dropFirst();
    this.compact();
  }

  clear(): void {
    this.rows = [];
    this.head = 0;
    this.bytes = 0;
  }

  /**
   * Up to `limit` rows with seq > afterSeq, oldest first, when the cache holds every such row up
   * to `lastSeq` (the newest seq the journal handed out); undefined when the file must answer.
   */
  after(afterSeq: number, limit: number, lastSeq: number): JournalEntry[] | undefined {
    if (afterSeq >= lastSeq) return [];
    const first = this.firstSeq();
    if (first === undefined || first > afterSeq + 1 || this.rows[this.rows.length - 1]!.seq !== lastSeq) return undefined;
    const from = this.head + (afterSeq + 1 - first);
    return this.rows.slice(from, Math.min(this.rows.length, from + limit));
  }

  get size(): number {
    return this.rows.length - this.head;
  }

  private firstSeq(): number | undefined {
    return this.rows.length > this.head ? this.rows[this.head]!.seq : undefined;
  }

  private dropFirst(): void {
    this.bytes -= this.rows[this.head]!.payload.length;
    this.head += 1;
  }

  private compact(): void {
    if (this.head === this.rows.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.rows.length) {
      this.rows = this.rows.slice(this.head);
      this.head = 0;
    }
  }
}
