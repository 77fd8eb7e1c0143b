// SqliteJournal: the durable store-and-forward journal (better-sqlite3, one connection, WAL).
//
// Design rules
// - Every reading is committed here before anyone tries to publish it; an entry leaves the
//   journal only when the forwarder says it was delivered (remove), when capacity forces it out
//   (drop_oldest), or by an operator's purge. Nothing is ever rewritten in place.
// - seq is gateway-wide and strictly increasing: +1 for every entry journaled, never reused, kept
//   across restarts, drains and purges. The journal assigns it from an in-memory counter; on disk
//   the last seq is max(meta.last_seq, max(entries.seq)), and every transaction keeps that true:
//   an append that writes rows needs no meta update (its last row holds the last seq), while any
//   transaction that may delete the newest row (remove, eviction, purge) first writes
//   meta.last_seq. That saves a second B-tree write per single-row append (~30% there).
//   Not AUTOINCREMENT: render(seq) must see the seq before the row exists, entries refused by
//   drop_newest must not burn a seq, and sqlite_sequence would cost a write per statement.
// - One append call = one transaction (group commit; the caller batches). Capacity is decided
//   before the transaction; the in-memory counters (depth, bytes, last seq, drops) change only
//   after a successful COMMIT, so a failed transaction leaves memory and disk in agreement.
//   Depth and bytes are counted in memory (loaded once at open), so capacity checks and stats()
//   cost no COUNT(*); they are reloaded if another process (the CLI's purge) wrote the file.
// - Capacity is max_messages rows and max_bytes, where an entry's size is its payload bytes plus
//   its topic's UTF-8 bytes (SQLite's own overhead, ~30-40 bytes a row, is not counted).
//   drop_oldest evicts the oldest rows (possibly earlier entries of the same call, which then
//   consume a seq without being written); drop_newest refuses the entries that do not fit and
//   gives them no seq. An entry larger than max_bytes on its own is refused under either policy.
//   So for every call, entries.length === stored.length + refused, and `stored` may name seqs the
//   same call already evicted (counted in `evicted`).
//   Drop counters are named after what was dropped: 'drop_newest' counts refused incoming entries
//   whatever the policy (e.g. after a disk-full retry failed).
// - Disk full (SQLITE_FULL) never escapes append: drop_oldest evicts a chunk of the oldest rows and
//   retries once, drop_newest refuses; whatever cannot be stored is counted and logged. Any other
//   SQLite error is thrown as a FieldgateError with the original as cause.
// - Durability: WAL with synchronous=FULL survives power loss; synchronous=NORMAL survives a crash
//   or kill of the process but may lose the last commits on power loss (never corrupts).
// - Space: auto_vacuum=INCREMENTAL, so pages freed by removes are returned to the file system a
//   few at a time once the free list is large, and all at once after a purge.
//
// On-disk format (schema version 1; see journal-schema.ts)
//   meta(key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID
//     schema_version, last_seq, drops_drop_oldest, drops_drop_newest, drops_purge
//   entries(seq INTEGER PRIMARY KEY, ts INTEGER, topic TEXT, qos INTEGER, retain INTEGER 0|1,
//           size INTEGER, payload BLOB)
//     seq is the rowid, so readAfter/remove walk the table's own B-tree. There is no index on ts:
//     export is a rare operator command and scans by seq filtering on ts (rows are nearly in ts
//     order, but not strictly: clocks jump and devices report late), which keeps appends lean.
//     export pages by seq, so it yields in journal order and never holds the connection busy.
//   A row costs its topic + payload plus ~30-40 bytes on disk (measured: ~180 bytes for a
//   ~150-byte entry). The WAL is reused after checkpoints and trimmed to 16 MiB
//   (journal_size_limit).
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { FieldgateError, errorText } from '../util/errors.js';
import { DropReporter } from './drop-reporter.js';
import type { AppendResult, Journal, JournalEntry, JournalStats, NewEntry } from './journal.js';
import {
  type Committed, type Counters, type Plan, type Planned, SqliteStore, isDiskFull, openDatabase, sqliteCode,
} from './sqlite-store.js';

export type WhenFull = 'drop_oldest' | 'drop_newest';
export type SyncMode = 'normal' | 'full';

export interface SqliteJournalOptions {
  path: string;
  maxMessages: number;
  maxBytes: number;
  whenFull: WhenFull;
  synchronous: SyncMode;
  logger: Logger;
  clock: Clock;
  /** Caps the file at this many pages (PRAGMA max_page_count): makes SQLITE_FULL reproducible in tests. */
  maxPageCount?: number;
}

const EXPORT_PAGE = 500;
// Free-list housekeeping: look after this many removed rows; reclaim while the free list is over
// both thresholds, RECLAIM_STEP_PAGES per remove call so no single call stalls the forwarder.
const RECLAIM_CHECK_ROWS = 4_096;
const RECLAIM_MIN_FREE_PAGES = 1_024;
const RECLAIM_STEP_PAGES = 256;

export class SqliteJournal implements Journal {
  private store: SqliteStore | undefined;
  private c: Counters = emptyCounters();
  // PRAGMA data_version as last seen: it moves only when another connection commits.
  private dataVersion = 0;
  private removedSinceReclaim = 0;
  private readonly reporter: DropReporter;

  constructor(private readonly options: SqliteJournalOptions) {
    this.reporter = new DropReporter(options.logger, options.clock);
  }

  open(): void {
    if (this.store) return;
    const { path: file, maxMessages, maxBytes, whenFull } = this.options;
    if (!(Number.isInteger(maxMessages) && maxMessages >= 1) || !(maxBytes >= 1)) {
      throw new FieldgateError('journal_config', 'journal capacity must be at least 1 message and 1 byte');
    }
    try {
      const db = openDatabase(file, this.options.synchronous, this.options.maxPageCount);
      try {
        this.store = new SqliteStore(db, { maxMessages, maxBytes, whenFull });
        this.reload(this.store);
      } catch (err) {
        this.store = undefined;
        db.close();
        throw err;
      }
    } catch (err) {
      if (err instanceof FieldgateError) throw err;
      throw new FieldgateError('journal_open', `cannot open journal ${file}: ${errorText(err)}`, { cause: err });
    }
    this.options.logger.info({ path: file, depth: this.c.depth, lastSeq: this.c.lastSeq }, 'journal opened');
  }

  close(): void {
    const store = this.store;
    if (!store) return;
    this.reporter.flush(true);
    if (this.c.dropsDirty) {
      try {
        store.saveDrops(this.c.drops);
      } catch (err) {
        this.options.logger.warn({ err }, 'journal could not record drop counters on close');
      }
    }
    this.store = undefined;
    store.db.close();
  }

  append(entries: NewEntry[]): AppendResult {
    const store = this.open_();
    if (entries.length === 0) return { stored: [], refused: 0, evicted: 0 };
    const plan = this.plan(entries);
    try {
      const done = this.adopt(store.commit(plan, this.c));
      this.reporter.note('drop_newest', plan.refused, 'capacity');
      this.reporter.note('drop_oldest', done.evicted, 'capacity');
      return { stored: done.stored, refused: plan.refused, evicted: done.evicted };
    } catch (err) {
      if (!isDiskFull(err)) throw writeError('append', err);
      return this.appendOnDiskFull(store, plan, err);
    }
  }

  readAfter(afterSeq: number, limit: number): JournalEntry[] {
    const store = this.open_();
    if (!(limit >= 1)) return [];
    return store.readAfter(afterSeq, Math.floor(limit));
  }

  remove(seqs: readonly number[]): void {
    const store = this.open_();
    if (seqs.length === 0) return;
    const sorted = [...new Set(seqs)].sort((a, b) => a - b);
    const before = this.c.depth;
    try {
      this.adopt(store.remove(sorted, this.c));
    } catch (err) {
      throw writeError('remove', err);
    }
    this.removedSinceReclaim += before - this.c.depth;
    if (this.removedSinceReclaim >= RECLAIM_CHECK_ROWS) this.reclaim(store);
  }

  stats(): JournalStats {
    const store = this.open_();
    this.reporter.flush(false);
    const oldest = this.c.depth > 0 ? store.oldest() : undefined;
    return {
      depth: this.c.depth,
      bytes: this.c.bytes,
      fileBytes: fileSize(this.options.path) + fileSize(`${this.options.path}-wal`),
      oldestSeq: oldest?.seq ?? null,
      oldestTs: oldest?.ts ?? null,
      lastSeq: this.c.lastSeq,
      drops: { ...this.c.drops },
    };
  }

  *export(since: number, until: number): Iterable<JournalEntry> {
    // Paged by seq so the connection is free between pages: appends and removes may interleave
    // with a long export without "connection is busy" errors.
    let after = 0;
    for (;;) {
      const rows = this.open_().exportPage(after, since, until, EXPORT_PAGE);
      yield* rows;
      if (rows.length < EXPORT_PAGE) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  purge(): number {
    const store = this.open_();
    let removed: number;
    try {
      removed = this.adopt(store.purge(this.c)).evicted;
    } catch (err) {
      throw writeError('purge', err);
    }
    this.removedSinceReclaim = 0;
    try {
      store.db.pragma('incremental_vacuum');
      store.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.options.logger.warn({ err }, 'journal could not shrink its file after purge');
    }
    this.options.logger.warn({ dropped: { purge: removed } }, `journal purged ${removed} entries`);
    return removed;
  }

  private open_(): SqliteStore {
    const store = this.store;
    if (!store) throw new FieldgateError('journal_closed', 'journal is not open');
    // Another process (`fieldgate buffer purge` next to a running gateway) wrote the file: the
    // in-memory counters are stale, so reload them rather than trust them.
    if (store.dataVersion() !== this.dataVersion) this.reload(store);
    return store;
  }

  private reload(store: SqliteStore): void {
    this.c = store.load();
    this.dataVersion = store.dataVersion();
    this.removedSinceReclaim = 0;
  }

  /** Makes a committed transaction's outcome the in-memory truth. */
  private adopt(done: Committed): Committed {
    this.c = done.counters;
    return done;
  }

  /** Decides, before any write, which entries are refused and which seq each other one gets. */
  private plan(entries: NewEntry[]): Plan {
    const { maxMessages, maxBytes, whenFull } = this.options;
    const accepted: Planned[] = [];
    let refused = 0;
    let { lastSeq: seq, depth, bytes } = this.c;
    for (const e of entries) {
      if (whenFull === 'drop_newest' && depth + 1 > maxMessages) {
        refused += 1;
        continue;
      }
      const payload = e.render(seq + 1);
      const size = payload.length + Buffer.byteLength(e.topic);
      if (size > maxBytes || (whenFull === 'drop_newest' && bytes + size > maxBytes)) {
        refused += 1;
        continue;
      }
      seq += 1;
      depth += 1;
      bytes += size;
      accepted.push({ seq, ts: e.ts, topic: e.topic, qos: e.qos, retain: e.retain, payload, size });
    }
    return { accepted, refused };
  }

  private appendOnDiskFull(store: SqliteStore, plan: Plan, err: unknown): AppendResult {
    let evicted = 0;
    if (this.options.whenFull === 'drop_oldest' && this.c.depth > 0 && plan.accepted.length > 0) {
      // Free about twice what the call needs (pages hold overhead too), and at least 1% of the
      // journal so a disk that stays full is not hit on every single append.
      const want = plan.accepted.reduce((sum, p) => sum + p.size, 0);
      try {
        const rows = Math.max(plan.accepted.length, Math.ceil(this.c.depth / 100));
        const bytes = Math.max(2 * want, Math.ceil(this.c.bytes / 100));
        evicted = this.adopt(store.evictChunk(rows, bytes, this.c)).evicted;
        this.reporter.note('drop_oldest', evicted, 'disk_full');
        const done = this.adopt(store.commit(plan, this.c));
        this.reporter.note('drop_newest', plan.refused, 'capacity');
        this.reporter.note('drop_oldest', done.evicted, 'capacity');
        return { stored: done.stored, refused: plan.refused, evicted: evicted + done.evicted };
      } catch (retryErr) {
        if (!isDiskFull(retryErr)) throw writeError('append', retryErr);
      }
    }
    // Nothing could be made to fit: the whole call is refused and no seq is consumed. The counters
    // are written now if the disk allows, else with the next commit that succeeds.
    const refused = plan.refused + plan.accepted.length;
    const drops = { ...this.c.drops, drop_newest: this.c.drops.drop_newest + refused };
    this.c = { ...this.c, drops, dropsDirty: true };
    try {
      store.saveDrops(drops);
      this.c = { ...this.c, dropsDirty: false };
    } catch (saveErr) {
      if (!isDiskFull(saveErr)) throw writeError('append', saveErr);
    }
    this.reporter.note('drop_newest', refused, `disk_full: ${errorText(err)}`);
    return { stored: [], refused, evicted };
  }

  private reclaim(store: SqliteStore): void {
    try {
      const free = Number(store.db.pragma('freelist_count', { simple: true }));
      const pages = Number(store.db.pragma('page_count', { simple: true }));
      // Below a quarter of the file, free pages are left for the next appends to reuse.
      if (free >= RECLAIM_MIN_FREE_PAGES && free * 4 >= pages) {
        store.db.pragma(`incremental_vacuum(${RECLAIM_STEP_PAGES})`);
        return; // keep stepping on the next removes until the free list is small
      }
      this.removedSinceReclaim = 0;
    } catch (err) {
      this.removedSinceReclaim = 0;
      this.options.logger.warn({ err }, 'journal could not reclaim free pages');
    }
  }
}

function emptyCounters(): Counters {
  return {
    depth: 0, bytes: 0, lastSeq: 0, persistedSeq: 0, drops: { drop_oldest: 0, drop_newest: 0, purge: 0 }, dropsDirty: false,
  };
}

function writeError(op: string, err: unknown): FieldgateError {
  if (err instanceof FieldgateError) return err;
  const code = sqliteCode(err);
  const retryable = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR'].some((c) => code.startsWith(c));
  return new FieldgateError('journal_write', `journal ${op} failed: ${errorText(err)}`, {
    kind: retryable ? 'retryable' : 'fatal',
    cause: err,
  });
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
