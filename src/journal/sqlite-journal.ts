// SqliteJournal: the durable store-and-forward journal (better-sqlite3, one connection, WAL).
//
// Design rules
// - Every reading is committed here before anyone tries to publish it; an entry leaves the
//   journal only when the forwarder says it was delivered (remove), when capacity forces it out
//   (drop_oldest), or by an operator's purge. Nothing is ever rewritten in place, except that
//   with buffer.keep_delivered remove() sets a delivered row's delivered_at instead of deleting
//   it (rules in keep-delivered.ts, SQL in delivered-rows.ts); depth and bytes then count the
//   undelivered rows, and the delivered ones are counted apart within the same capacity.
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
//   cost no COUNT(*); they are reloaded if another process (the CLI's purge) wrote the file. An
//   append checks that inside its own transaction (and plans again if so); the rows it wrote go
//   back to the caller (AppendResult.rows), so the forwarder need not read them back.
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
// - A full disk must not stop the newest readings (disk-budget.ts): the journal keeps some free
//   space on its file system and, when short of it, stops growing and makes room by its capacity
//   policy; a reserve file is given up to get out of SQLITE_FULL caused by someone else.
// - seq never goes backwards, even when the journal file is lost (seq-lease.ts), and every
//   journal has an id (meta.journal_id) that consumers see. A corrupt journal is moved aside
//   (journal-files.ts) and a new one continues the seq; an unopenable one (full disk, permissions)
//   is retried while readings are refused and counted, rather than stopping the gateway. Storage
//   that fails under a running gateway (read-only, I/O errors) is left for a journal in memory
//   with the same seqs (memory-fallback.ts), so readings keep flowing, without durability.
// - Durability: WAL with synchronous=FULL survives power loss; synchronous=NORMAL survives a crash
//   or kill of the process but may lose the last commits on power loss (never corrupts): at most
//   buffer.sync_interval of them (storage-sync.ts). A journal the machine went down with continues
//   seq above its lease, as the lost commits' seqs may have been published (boot-marker.ts).
// - Space: auto_vacuum=INCREMENTAL, so pages freed by removes are returned to the file system a
//   few at a time once the free list is large, and all at once after a purge.
//
// On-disk format: see journal-schema.ts.
//
// SqliteJournal is spread over a few files: this one carries out the Journal operations;
// journal-connection.ts opens the file (through journal-opener.ts), reopens or recovers it, moves
// the journal into memory when the file's storage fails (memory-fallback.ts) and holds the state
// that mirrors it; journal-housekeeping.ts expires delivered rows and returns free
// pages to the file system; sqlite-store.ts is the SQL (its statements in journal-statements.ts,
// opening the database and reading SQLite's errors in journal-database.ts).
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { FieldgateError, errorText } from '../util/errors.js';
import { DropReporter } from './drop-reporter.js';
import type { AppendResult, HeldEntry, Journal, JournalEntry, JournalStats, NewEntry, SyncMode, WhenFull } from './journal.js';
import { type Committed, type Plan, type Planned, type SqliteStore, ForeignWriteError } from './sqlite-store.js';
import { addDrops, withCounts } from './journal-counters.js';
import { isCorrupt, isDiskFull, sqliteCode } from './journal-database.js';
import { DiskBudget, type StatFs } from './disk-budget.js';
import { JournalSpace } from './journal-space.js';
import { fileSizeOrUndefined } from './journal-files.js';
import type { JournalOpening } from './journal-opener.js';
import { JournalConnection } from './journal-connection.js';
import { JournalHousekeeping } from './journal-housekeeping.js';
import { RecentRows } from './recent-rows.js';
import { StorageSync } from './storage-sync.js';

export type { JournalOpening } from './journal-opener.js';

export type { WhenFull, SyncMode } from './journal.js';

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
  /**
   * When the journal cannot be opened: `throw` (commands, tests), or `retry` (the gateway): refuse
   * and count readings, and try again every few seconds, rather than stop acquisition.
   */
  onOpenFailure?: 'throw' | 'retry';
  /** Overrides the disk reserve and headroom (tests). */
  reserveBytes?: number;
  /** Replaces statfs (tests). */
  statfs?: StatFs;
  /** buffer.keep_delivered in ms: acknowledged rows are kept that long (keep-delivered.ts); 0/absent = deleted. */
  keepDeliveredMs?: number;
  /** Called after every successful open: at start, after a retry, after a corrupt file was replaced. */
  onOpen?: (opening: JournalOpening) => void;
  /**
   * This boot's id (boot-marker.ts), given by the one process that writes the journal (the
   * gateway): it marks the journal open in this boot, so that a later boot can tell the machine
   * went down with it open (reset reason power_loss). Commands leave it out.
   */
  bootId?: string;
  /** buffer.sync_interval in ms, with synchronous 'normal': longest a commit waits to be flushed to storage (storage-sync.ts). */
  syncIntervalMs?: number;
  /**
   * buffer.memory_fallback in bytes: when the file's storage fails under a running gateway, the
   * journal goes on in memory, holding up to this much (memory-fallback.ts); 0/absent = it does
   * not, and every append fails (the readings are lost) until the gateway restarts.
   */
  memoryFallbackBytes?: number;
  /**
   * A directory that outlives the process but not the boot (systemd's $RUNTIME_DIRECTORY): where
   * a journal in memory records the seqs it may hand out (memory-marker.ts).
   */
  runtimeDir?: string;
}

const EXPORT_PAGE = 500;
// Appends planned again after another process wrote the file in between; one purge costs one.
const FOREIGN_WRITE_RETRIES = 3;
// The newest committed rows kept for the forwarder (recent-rows.ts): a few windows' worth.
const RECENT_ROWS = 2_048;
const RECENT_BYTES = 1024 * 1024;

export class SqliteJournal implements Journal {
  private readonly recent = new RecentRows(RECENT_ROWS, RECENT_BYTES);
  private readonly reporter: DropReporter;
  private readonly space: JournalSpace;
  private readonly housekeeping: JournalHousekeeping;
  private readonly conn: JournalConnection;
  private readonly sync: StorageSync | undefined;

  constructor(private readonly options: SqliteJournalOptions) {
    const interval = options.syncIntervalMs ?? 0;
    if (options.synchronous === 'normal' && interval > 0) {
      this.sync = new StorageSync({ file: options.path, intervalMs: interval, logger: options.logger });
    }
    this.reporter = new DropReporter(options.logger, options.clock);
    const budget = new DiskBudget({
      file: options.path, clock: options.clock, statfs: options.statfs, reserveBytes: options.reserveBytes,
    });
    this.space = new JournalSpace({
      budget, path: options.path, maxBytes: options.maxBytes, logger: options.logger, clock: options.clock,
    });
    this.housekeeping = new JournalHousekeeping({
      keepDeliveredMs: options.keepDeliveredMs ?? 0, space: this.space, logger: options.logger, clock: options.clock,
    });
    this.conn = new JournalConnection(options, { budget, recent: this.recent, reporter: this.reporter, housekeeping: this.housekeeping });
  }

  /** Identity and reset report of the last successful open. */
  get opened(): JournalOpening | undefined {
    return this.conn.opened;
  }

  open(): void {
    this.sync?.restart();
    this.conn.open();
  }

  close(): void {
    this.sync?.stop();
    this.conn.close();
  }

  append(entries: NewEntry[]): AppendResult {
    const conn = this.conn;
    // Whether another process wrote the file is checked inside the append's own transaction.
    const store = conn.usable('in_transaction');
    if (entries.length === 0) return { stored: [], refused: 0, evicted: 0 };
    if (!store) return conn.refuseAll(entries.length);
    let plan = this.plan(store, entries);
    conn.coverSeqs(plan);
    try {
      let committed: Committed | undefined;
      for (let attempt = 1; committed === undefined; attempt += 1) {
        try {
          committed = store.commit(plan, conn.c, conn.dataVersion);
        } catch (err) {
          // Another process (`fieldgate buffer purge`) wrote the file since the counters were
          // read: nothing was written; reload them and plan again (seqs are never reused).
          if (!(err instanceof ForeignWriteError) || attempt >= FOREIGN_WRITE_RETRIES) throw err;
          conn.reload(store);
          plan = this.plan(store, entries);
          conn.coverSeqs(plan);
        }
      }
      const done = this.adopt(committed);
      // An eviction may take cached rows (or this call's own first ones): start the cache afresh.
      let rows: JournalEntry[] | undefined;
      if (done.evicted > 0) this.recent.clear();
      else if (plan.accepted.length > 0) rows = this.recent.added(plan.accepted);
      this.reporter.note('drop_newest', plan.refused, conn.memory ? 'journal_in_memory' : 'capacity');
      this.reporter.note('drop_oldest', done.evicted, conn.memory ? 'journal_in_memory' : this.space.limited ? 'disk_space' : 'capacity');
      if (!conn.memory) this.space.maintainReserve();
      return rows ? { stored: done.stored, refused: plan.refused, evicted: done.evicted, rows } : { stored: done.stored, refused: plan.refused, evicted: done.evicted };
    } catch (err) {
      if (isCorrupt(err) && conn.recoverCorrupt(err)) return this.append(entries);
      if (this.toMemory(err)) return this.append(entries);
      if (!isDiskFull(err)) throw writeError('append', err);
      return this.appendOnDiskFull(store, plan, err);
    }
  }

  readAfter(afterSeq: number, limit: number): JournalEntry[] {
    const conn = this.conn;
    this.recent.dropThrough(afterSeq);
    // A forwarder that is caught up asks after every acknowledgement: nothing newer exists.
    if (conn.state === 'open' && afterSeq >= conn.c.lastSeq) return [];
    const store = conn.usable();
    if (!store || !(limit >= 1)) return [];
    // Live forwarding reads what was just committed: from memory (usable() has checked that no
    // other process wrote the file meanwhile, else it reloaded and emptied the cache).
    const cached = this.recent.after(afterSeq, Math.floor(limit), conn.c.lastSeq);
    if (cached) return cached;
    try {
      return store.readAfter(afterSeq, Math.floor(limit), conn.c);
    } catch (err) {
      if (isCorrupt(err) && conn.recoverCorrupt(err)) return [];
      if (this.toMemory(err)) return this.readAfter(afterSeq, limit);
      throw err;
    }
  }

  remove(seqs: readonly number[]): void {
    const conn = this.conn;
    const store = conn.usable();
    if (!store) return;
    if (seqs.length === 0) {
      conn.c = this.housekeeping.expire(store, conn.c, false);
      return;
    }
    const sorted = ascendingDistinct(seqs);
    const before = conn.c.depth;
    try {
      this.adopt(store.remove(sorted, conn.c, this.options.clock.now()));
    } catch (err) {
      this.recent.clear();
      if (isCorrupt(err) && conn.recoverCorrupt(err)) return;
      if (this.toMemory(err)) {
        this.remove(seqs);
        return;
      }
      throw writeError('remove', err);
    }
    this.recent.dropThrough(sorted[sorted.length - 1]!);
    conn.c = this.housekeeping.afterRemove(store, store.keepsDelivered ? 0 : before - conn.c.depth, conn.c);
  }

  readHeld(afterSeq: number, toSeq: number, limit: number): HeldEntry[] {
    const conn = this.conn;
    const store = conn.usable();
    if (!store || !(limit >= 1)) return [];
    try {
      return store.readHeld(afterSeq, toSeq, Math.floor(limit));
    } catch (err) {
      if (isCorrupt(err) && conn.recoverCorrupt(err)) return [];
      if (this.toMemory(err)) return this.readHeld(afterSeq, toSeq, limit);
      throw err;
    }
  }

  stats(): JournalStats {
    const conn = this.conn;
    const store = conn.usable();
    this.reporter.flush(false);
    const c = conn.c;
    const oldest = store && c.depth > 0 ? store.oldest(c) : undefined;
    const oldestDelivered = store && c.deliveredDepth > 0 ? store.delivered?.oldestDelivered() : undefined;
    return {
      journalId: conn.journalId,
      available: store !== undefined,
      storage: conn.memory ? 'memory' : 'file',
      resets: { ...conn.resets },
      depth: c.depth,
      bytes: c.bytes,
      fileBytes: (fileSizeOrUndefined(this.options.path) ?? 0) + (fileSizeOrUndefined(`${this.options.path}-wal`) ?? 0),
      oldestSeq: oldest?.seq ?? null,
      oldestTs: oldest?.ts ?? null,
      lastSeq: c.lastSeq,
      drops: { ...c.drops },
      delivered: {
        depth: c.deliveredDepth,
        bytes: c.deliveredBytes,
        oldestSeq: oldestDelivered?.seq ?? null,
        oldestTs: oldestDelivered?.ts ?? null,
      },
    };
  }

  *export(since: number, until: number): Iterable<JournalEntry> {
    // Paged by seq so the connection is free between pages: appends and removes may interleave
    // with a long export without "connection is busy" errors.
    let after = 0;
    for (;;) {
      const store = this.conn.usable();
      if (!store) return;
      const rows = store.exportPage(after, since, until, EXPORT_PAGE, this.conn.c);
      yield* rows;
      if (rows.length < EXPORT_PAGE) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  purge(): number {
    const store = this.conn.usable();
    if (!store) throw new FieldgateError('journal_unavailable', `journal is not available: ${this.conn.unavailableReason}`);
    let removed: number;
    this.recent.clear();
    try {
      removed = this.adopt(store.purge(this.conn.c)).evicted;
    } catch (err) {
      throw writeError('purge', err);
    }
    this.housekeeping.afterPurge(store);
    this.options.logger.warn({ dropped: { purge: removed } }, `journal purged ${removed} entries`);
    return removed;
  }

  /** Makes a committed transaction's outcome the in-memory truth. */
  private adopt(done: Committed): Committed {
    this.conn.c = done.counters;
    if (!this.conn.memory) this.sync?.committed();
    return done;
  }

  /** The file's storage failed: go on in memory if allowed (memory-fallback.ts). */
  private toMemory(err: unknown): boolean {
    if (!this.conn.toMemory(err)) return false;
    this.sync?.stop();
    return true;
  }

  /** Decides, before any write, which entries are refused and which seq each other one gets. */
  private plan(store: SqliteStore, entries: NewEntry[]): Plan {
    const { maxMessages, whenFull } = this.options;
    const memory = this.conn.memory;
    const { maxBytes, extraEvict } = memory ? { maxBytes: memory.maxBytes, extraEvict: 0 } : this.space.capacity(this.conn.c.bytes, () => store.pages());
    // In memory the lease cannot be extended: no seq above its ceiling may be handed out.
    const seqCap = memory ? memory.seqCap : Number.MAX_SAFE_INTEGER;
    const accepted: Planned[] = [];
    let refused = 0;
    let { lastSeq: seq, depth, bytes } = this.conn.c;
    for (const e of entries) {
      if ((whenFull === 'drop_newest' && depth + 1 > maxMessages) || seq >= seqCap) {
        refused += 1;
        continue;
      }
      const payload = e.render(seq + 1);
      const size = payload.length + Buffer.byteLength(e.topic);
      if (size > (memory ? memory.maxBytes : this.options.maxBytes) || (whenFull === 'drop_newest' && bytes + size > maxBytes)) {
        refused += 1;
        continue;
      }
      seq += 1;
      depth += 1;
      bytes += size;
      accepted.push({ seq, ts: e.ts, topic: e.topic, qos: e.qos, retain: e.retain, encoding: e.encoding, payload, size });
    }
    return { accepted, refused, maxBytes, extraEvict };
  }

  private appendOnDiskFull(store: SqliteStore, plan: Plan, err: unknown): AppendResult {
    const conn = this.conn;
    let evicted = 0;
    this.recent.clear();
    // Room for the checkpoint and the eviction's own WAL frames: without it, neither can run.
    this.space.releaseReserve();
    store.checkpoint();
    if (this.options.whenFull === 'drop_oldest' && conn.c.depth > 0 && plan.accepted.length > 0) {
      // Free about twice what the call needs (pages hold overhead too), and at least 1% of the
      // journal so a disk that stays full is not hit on every single append.
      const want = plan.accepted.reduce((sum, p) => sum + p.size, 0);
      try {
        const rows = Math.max(plan.accepted.length, Math.ceil(conn.c.depth / 100));
        const bytes = Math.max(2 * want, Math.ceil(conn.c.bytes / 100), 64 * 1024);
        evicted = this.adopt(store.evictChunk(rows, bytes, conn.c)).evicted;
        this.reporter.note('drop_oldest', evicted, 'disk_full');
        store.checkpoint();
        const done = this.adopt(store.commit(plan, conn.c));
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
    const drops = addDrops(conn.c.drops, { drop_newest: refused });
    conn.c = withCounts(conn.c, { drops, dropsDirty: true });
    try {
      store.saveDrops(drops);
      conn.c = withCounts(conn.c, { dropsDirty: false });
    } catch (saveErr) {
      if (!isDiskFull(saveErr)) throw writeError('append', saveErr);
    }
    this.reporter.note('drop_newest', refused, `disk_full: ${errorText(err)}`);
    return { stored: [], refused, evicted };
  }
}

/** The seqs ascending and without repeats; acknowledgements mostly arrive that way already. */
function ascendingDistinct(seqs: readonly number[]): number[] {
  let ordered = true;
  for (let i = 1; i < seqs.length && ordered; i++) ordered = seqs[i]! > seqs[i - 1]!;
  return ordered ? [...seqs] : [...new Set(seqs)].sort((a, b) => a - b);
}

function writeError(op: string, err: unknown): FieldgateError {
  if (err instanceof FieldgateError) return err;
  const code = sqliteCode(err);
  const retryable = err instanceof ForeignWriteError || ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR'].some((c) => code.startsWith(c));
  return new FieldgateError('journal_write', `journal ${op} failed: ${errorText(err)}`, {
    kind: retryable ? 'retryable' : 'fatal',
    cause: err,
  });
}
