// The SQL half of SqliteJournal: the connection (opened by journal-database.ts), its prepared
// statements (made once, journal-statements.ts) and the transaction bodies. It holds no counters
// of its own: every transaction reads the journal's counters as given and returns what they
// become, and the journal adopts that only after COMMIT succeeded, so a failed transaction leaves
// memory and disk in agreement. Design rules and the on-disk format are at the top of
// sqlite-journal.ts.
import type BetterSqlite3 from 'better-sqlite3';
import type { DropReason, HeldEntry, JournalEntry, WhenFull } from './journal.js';
import { META_KEYS, hasColumn, toEntry } from './journal-schema.js';
import { DeliveredRows, type RowsBytes } from './delivered-rows.js';
import { type Statements, prepareStatements, removeSorted } from './journal-statements.js';
import { type Counters, addDrops, emptyCountersAt, withCounts } from './journal-counters.js';

/** A row about to be inserted: the entry plus its capacity size. */
export interface Planned extends JournalEntry {
  size: number;
}

/** An append decided before any write: the entries that get a seq, and how many were refused. */
export interface Plan {
  accepted: Planned[];
  refused: number;
  /** Byte capacity for this call: max_bytes, or less while the disk is short of room. */
  maxBytes: number;
  /** drop_oldest: bytes to evict beyond what the call needs, so that whole pages come free. */
  extraEvict: number;
}

export interface Committed {
  stored: number[];
  evicted: number;
  /** Delivered rows deleted to make room or by expiry (not drops). */
  freed?: number;
  counters: Counters;
}

export interface Limits {
  maxMessages: number;
  whenFull: WhenFull;
  /** buffer.keep_delivered is set: remove() marks rows delivered instead of deleting them. */
  keepDelivered: boolean;
}

/** The journal's name and birth, kept in meta (as integers, so older fieldgates read the file too). */
export interface Identity {
  journalId: number;
  createdAt: number;
}

/**
 * Thrown (and the transaction rolled back, nothing written) by a commit that was given the
 * data_version its plan was made at, when another connection has written the file since: the
 * counters the plan rests on are stale, so the caller reloads them and plans again.
 */
export class ForeignWriteError extends Error {
  constructor() {
    super('another connection wrote the journal since its counters were read');
    this.name = 'ForeignWriteError';
  }
}

export class SqliteStore {
  private readonly st: Statements;
  /**
   * One append: capacity eviction, inserts, meta. With `seenVersion`, the transaction first checks
   * PRAGMA data_version against it (free inside the transaction, where a check of its own would
   * take and release the WAL read lock: two fcntl calls) and throws ForeignWriteError if it moved.
   */
  readonly commit: (plan: Plan, c: Counters, seenVersion?: number) => Committed;
  /** Evicts at least `rows` oldest rows holding at least `bytes` (disk full) and records it. */
  readonly evictChunk: (rows: number, bytes: number, c: Counters) => Committed;
  /** Deletes ascending, distinct seqs; unknown ones are skipped. */
  readonly remove: (sortedSeqs: number[], c: Counters, now: number) => Committed;
  /** Deletes delivered rows delivered at or before `cutoff` (keep-delivered.ts). */
  readonly expire: (cutoff: number, c: Counters) => Committed;
  readonly purge: (c: Counters) => Committed;
  /** The file has entries.delivered_at (else delivered rows are deleted, as before). */
  readonly delivered: DeliveredRows | undefined;
  /** remove() marks rows delivered rather than deleting them. */
  readonly keepsDelivered: boolean;
  readonly saveDrops: (drops: Record<DropReason, number>) => void;

  constructor(readonly db: BetterSqlite3.Database, limits: Limits) {
    const st = prepareStatements(db);
    this.st = st;
    const delivered = hasColumn(db, 'entries', 'delivered_at') ? new DeliveredRows(db, st.cols) : undefined;
    this.delivered = delivered;
    this.keepsDelivered = limits.keepDelivered && delivered !== undefined;
    const keeps = this.keepsDelivered;

    const saveSeq = (seq: number, c: Counters): number => {
      if (seq !== c.persistedSeq) st.setMeta.run(seq, META_KEYS.lastSeq);
      return seq;
    };
    const saveDrops = (drops: Record<DropReason, number>): void => {
      st.setMeta.run(drops.drop_oldest, META_KEYS.dropsOldest);
      st.setMeta.run(drops.drop_newest, META_KEYS.dropsNewest);
      st.setMeta.run(drops.purge, META_KEYS.dropsPurge);
    };
    // Deletes the oldest rows until both targets are met (or the table is empty).
    const evictOldest = (rows: number, bytes: number): { n: number; b: number } => {
      let n = 0;
      let b = 0;
      let upTo = 0;
      if (rows <= 0 && bytes <= 0) return { n, b };
      for (const r of st.oldestSizes.iterate()) {
        n += 1;
        b += r.size;
        upTo = r.seq;
        if (n >= rows && b >= bytes) break;
      }
      if (n > 0) st.deleteUpTo.run(upTo);
      return { n, b };
    };

    // Delivered rows make room first (both policies), uncounted; only then undelivered ones go.
    const makeRoom = (rowsOver: number, bytesOver: number, c: Counters): { c: Counters; gone: RowsBytes } =>
      delivered ? delivered.makeRoom(rowsOver, bytesOver, c, saveSeq) : { c, gone: { n: 0, b: 0 } };

    const commit = (plan: Plan, given: Counters, seenVersion?: number): Committed => {
      if (seenVersion !== undefined && st.dataVersion.get() !== seenVersion) throw new ForeignWriteError();
      let toWrite = plan.accepted;
      const incoming = toWrite.reduce((sum, p) => sum + p.size, 0);
      const over = given.bytes + given.deliveredBytes + incoming - plan.maxBytes;
      const { c, gone } = makeRoom(
        given.depth + given.deliveredDepth + toWrite.length - limits.maxMessages,
        over > 0 ? over + plan.extraEvict : over,
        given,
      );
      let evicted = 0;
      let depth = c.depth;
      let bytes = c.bytes;
      if (limits.whenFull === 'drop_oldest') {
        let rowsOver = depth + c.deliveredDepth + toWrite.length - limits.maxMessages;
        let bytesOver = bytes + c.deliveredBytes + incoming - plan.maxBytes;
        if (rowsOver > 0 || bytesOver > 0) {
          const extra = bytesOver > 0 ? plan.extraEvict : 0;
          const old = evictOldest(Math.min(rowsOver, depth), bytesOver + extra);
          evicted = old.n;
          depth -= old.n;
          bytes -= old.b;
          rowsOver -= old.n;
          bytesOver -= old.b;
          // Evicting the whole journal was not enough: this call's own earliest entries go too
          // (they keep their seq, as if written and evicted at once).
          let skip = 0;
          while (skip < toWrite.length && (rowsOver > 0 || bytesOver > 0)) {
            rowsOver -= 1;
            bytesOver -= toWrite[skip]!.size;
            skip += 1;
          }
          evicted += skip;
          toWrite = toWrite.slice(skip);
        }
      }
      st.insertAll(toWrite);
      for (const p of toWrite) {
        depth += 1;
        bytes += p.size;
      }
      const lastSeq = plan.accepted.at(-1)?.seq ?? c.lastSeq;
      // No row written while rows may have gone: then the last seq lives in meta only.
      const persistedSeq = toWrite.length === 0 ? saveSeq(lastSeq, c) : c.persistedSeq;
      const drops = addDrops(c.drops, { drop_oldest: evicted, drop_newest: plan.refused });
      if (c.dropsDirty || evicted > 0 || plan.refused > 0) saveDrops(drops);
      return {
        stored: plan.accepted.map((p) => p.seq),
        evicted,
        counters: withCounts(c, { depth, bytes, lastSeq, persistedSeq, drops, dropsDirty: false }),
        freed: gone.n,
      };
    };

    const evictChunk = (rows: number, bytes: number, given: Counters): Committed => {
      const { c, gone } = makeRoom(rows, bytes, given);
      const persistedSeq = saveSeq(c.lastSeq, c);
      const old = c.deliveredDepth > 0 ? { n: 0, b: 0 } : evictOldest(rows - gone.n, bytes - gone.b);
      const drops = addDrops(c.drops, { drop_oldest: old.n });
      saveDrops(drops);
      return {
        stored: [],
        evicted: old.n,
        counters: withCounts(c, { depth: c.depth - old.n, bytes: c.bytes - old.b, persistedSeq, drops, dropsDirty: false }),
      };
    };

    const remove = (seqs: number[], c: Counters, now: number): Committed => {
      if (keeps) return { stored: [], evicted: 0, counters: delivered!.markDelivered(seqs, now, c) };
      // Deleting the newest row would lose the last seq unless meta holds it.
      const persistedSeq = seqs[seqs.length - 1]! >= c.lastSeq ? saveSeq(c.lastSeq, c) : c.persistedSeq;
      const gone = removeSorted(st, seqs);
      return {
        stored: [],
        evicted: 0,
        counters: withCounts(c, { depth: c.depth - gone.n, bytes: c.bytes - gone.b, persistedSeq }),
      };
    };

    const expire = (cutoff: number, c: Counters): Committed => {
      if (!delivered) return { stored: [], evicted: 0, counters: c };
      const done = delivered.expire(cutoff, c, saveSeq);
      return { stored: [], evicted: 0, counters: done.c, freed: done.gone.n };
    };

    const purge = (c: Counters): Committed => {
      // Read the newest seq under the write lock: another process may be appending meanwhile.
      const lastSeq = Math.max(c.lastSeq, st.maxSeq.get() ?? 0);
      const persistedSeq = saveSeq(lastSeq, c);
      // Delivered rows are no loss; c may be stale (another process), so they are counted here.
      const kept = delivered ? delivered.load(lastSeq).delivered.n : 0;
      const n = st.deleteAll.run().changes - kept;
      const drops = addDrops(c.drops, { purge: n });
      saveDrops(drops);
      return {
        stored: [],
        evicted: n,
        counters: withCounts(emptyCountersAt(lastSeq), { persistedSeq, drops }),
      };
    };

    // IMMEDIATE: take the write lock up front, so a reader next to us (the CLI) cannot make a
    // deferred transaction fail on lock upgrade.
    this.commit = db.transaction(commit).immediate;
    this.evictChunk = db.transaction(evictChunk).immediate;
    this.remove = db.transaction(remove).immediate;
    this.purge = db.transaction(purge).immediate;
    this.expire = db.transaction(expire).immediate;
    this.saveDrops = db.transaction(saveDrops).immediate;
  }

  identity(): Identity | undefined {
    const get = this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    const journalId = get.get(META_KEYS.journalId) as number | undefined;
    if (journalId === undefined) return undefined;
    return { journalId, createdAt: (get.get(META_KEYS.createdAt) as number | undefined) ?? 0 };
  }

  setIdentity(id: Identity): void {
    const put = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      put.run(META_KEYS.journalId, id.journalId);
      put.run(META_KEYS.createdAt, id.createdAt);
    }).immediate();
  }

  /** meta.open_boot: the boot a gateway has the journal open in, 0 (or absent) when closed cleanly. */
  openBoot(): number {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(META_KEYS.openBoot) as number | undefined) ?? 0;
  }

  setOpenBoot(key: number): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(META_KEYS.openBoot, key);
  }

  /** Makes the next seq at least seq + 1 (a journal that replaced a lost one continues above it). */
  raiseSeq(seq: number, c: Counters): Counters {
    if (seq <= c.lastSeq) return c;
    this.db.transaction(() => this.st.setMeta.run(seq, META_KEYS.lastSeq)).immediate();
    return withCounts(c, { lastSeq: seq, persistedSeq: seq });
  }

  /** Copies the WAL into the database file as far as readers allow; false if SQLite refused. */
  checkpoint(): boolean {
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
      return true;
    } catch {
      return false;
    }
  }

  /** Bytes in free pages (reused by the next inserts) and in used pages. */
  pages(): { free: number; used: number } {
    const size = Number(this.db.pragma('page_size', { simple: true }));
    const count = Number(this.db.pragma('page_count', { simple: true }));
    const free = Number(this.db.pragma('freelist_count', { simple: true }));
    return { free: free * size, used: (count - free) * size };
  }

  /** Counters as stored; O(rows) once, at open or after another process wrote. */
  load(): Counters {
    const meta = new Map(
      (this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: number }[])
        .map((r) => [r.key, r.value]),
    );
    const totals = this.db.prepare('SELECT count(*) AS n, coalesce(sum(size), 0) AS b, max(seq) AS m FROM entries')
      .get() as { n: number; b: number; m: number | null };
    const persistedSeq = meta.get(META_KEYS.lastSeq) ?? 0;
    const lastSeq = Math.max(persistedSeq, totals.m ?? 0);
    const held = this.delivered?.load(lastSeq) ?? { delivered: { n: 0, b: 0 }, undeliveredFrom: 0 };
    return {
      depth: totals.n - held.delivered.n,
      bytes: totals.b - held.delivered.b,
      deliveredDepth: held.delivered.n,
      deliveredBytes: held.delivered.b,
      undeliveredFrom: held.undeliveredFrom,
      lastSeq,
      persistedSeq,
      drops: {
        drop_oldest: meta.get(META_KEYS.dropsOldest) ?? 0,
        drop_newest: meta.get(META_KEYS.dropsNewest) ?? 0,
        purge: meta.get(META_KEYS.dropsPurge) ?? 0,
      },
      dropsDirty: false,
    };
  }

  /** Moves only when another connection commits. */
  dataVersion(): number {
    return this.st.dataVersion.get()!;
  }

  // With delivered rows present, reads skip them (starting at undeliveredFrom); without, the plain
  // statements run, so a gateway without keep_delivered pays nothing for the feature.
  readAfter(afterSeq: number, limit: number, c: Counters): JournalEntry[] {
    if (this.delivered && c.deliveredDepth > 0) return this.delivered.readAfter(Math.max(afterSeq, c.undeliveredFrom - 1), limit);
    return this.st.readAfter.all(afterSeq, limit).map(toEntry);
  }

  readHeld(afterSeq: number, toSeq: number, limit: number): HeldEntry[] {
    if (this.delivered) return this.delivered.readHeld(afterSeq, toSeq, limit);
    return this.st.readAfter.all(afterSeq, limit).filter((r) => r.seq <= toSeq).map((r) => ({ ...toEntry(r), delivered: false }));
  }

  exportPage(afterSeq: number, since: number, until: number, limit: number, c: Counters): JournalEntry[] {
    if (this.delivered && c.deliveredDepth > 0) return this.delivered.exportPage(afterSeq, since, until, limit);
    return this.st.exportPage.all(afterSeq, since, until, limit).map(toEntry);
  }

  /** The oldest undelivered row. */
  oldest(c: Counters): { seq: number; ts: number } | undefined {
    if (this.delivered && c.deliveredDepth > 0) return this.delivered.oldestUndelivered(c.undeliveredFrom);
    return this.st.oldest.get();
  }
}
