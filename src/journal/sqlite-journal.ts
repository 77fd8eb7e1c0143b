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
//   is retried while readings are refused and counted, rather than stopping the gateway.
// - Durability: WAL with synchronous=FULL survives power loss; synchronous=NORMAL survives a crash
//   or kill of the process but may lose the last commits on power loss (never corrupts).
// - Space: auto_vacuum=INCREMENTAL, so pages freed by removes are returned to the file system a
//   few at a time once the free list is large, and all at once after a purge.
//
// On-disk format: see journal-schema.ts.
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { FieldgateError, errorText } from '../util/errors.js';
import { DropReporter } from './drop-reporter.js';
import type { AppendResult, HeldEntry, Journal, JournalEntry, JournalStats, NewEntry, ResetReason, SyncMode, WhenFull } from './journal.js';
import {
  type Committed, type Counters, type Identity, type Plan, type Planned, type SqliteStore, ForeignWriteError, emptyCountersAt, isCorrupt,
  isDiskFull, sqliteCode,
} from './sqlite-store.js';
import { ExpirySchedule } from './keep-delivered.js';
import { DiskBudget, type StatFs } from './disk-budget.js';
import { JournalSpace } from './journal-space.js';
import { SeqLease, leasePathFor } from './seq-lease.js';
import { fileSizeOrUndefined, formatJournalId, moveAside } from './journal-files.js';
import { type JournalOpening, openJournal } from './journal-opener.js';
import { RecentRows } from './recent-rows.js';

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
}

const EXPORT_PAGE = 500;
// Free-list housekeeping: look after this many removed rows; reclaim while the free list is over
// both thresholds, RECLAIM_STEP_PAGES per remove call so no single call stalls the forwarder.
const RECLAIM_CHECK_ROWS = 4_096;
const RECLAIM_MIN_FREE_PAGES = 1_024;
const RECLAIM_STEP_PAGES = 256;
const RETRY_OPEN_MS = 5_000;
// Appends planned again after another process wrote the file in between; one purge costs one.
const FOREIGN_WRITE_RETRIES = 3;
// The newest committed rows kept for the forwarder (recent-rows.ts): a few windows' worth.
const RECENT_ROWS = 2_048;
const RECENT_BYTES = 1024 * 1024;

type State = 'closed' | 'open' | 'unavailable';

export class SqliteJournal implements Journal {
  private store: SqliteStore | undefined;
  private state: State = 'closed';
  private c: Counters = emptyCounters();
  private readonly recent = new RecentRows(RECENT_ROWS, RECENT_BYTES);
  // PRAGMA data_version as last seen: it moves only when another connection commits.
  private dataVersion = 0;
  private removedSinceReclaim = 0;
  private readonly reporter: DropReporter;
  private readonly budget: DiskBudget;
  private readonly lease: SeqLease;
  private identity: Identity | undefined;
  private identityText: { id: Identity; text: string } | undefined;
  private opening: JournalOpening | undefined;
  private readonly resets: Record<ResetReason, number> = { missing: 0, replaced: 0, corrupt: 0 };
  private unavailable: { reason: string; lastTry: number } | undefined;
  /** Readings refused while unavailable, recorded in the journal once it opens. */
  private unsavedRefusals = 0;
  private readonly space: JournalSpace;
  private leaseFailing = false;
  private recovering = false;
  private readonly expiry: ExpirySchedule;

  constructor(private readonly options: SqliteJournalOptions) {
    this.reporter = new DropReporter(options.logger, options.clock);
    this.expiry = new ExpirySchedule(options.keepDeliveredMs ?? 0);
    this.budget = new DiskBudget({
      file: options.path, clock: options.clock, statfs: options.statfs, reserveBytes: options.reserveBytes,
    });
    this.lease = new SeqLease(leasePathFor(options.path));
    this.space = new JournalSpace({
      budget: this.budget, path: options.path, maxBytes: options.maxBytes, logger: options.logger, clock: options.clock,
    });
  }

  /** Identity and reset report of the last successful open. */
  get opened(): JournalOpening | undefined {
    return this.opening;
  }

  open(): void {
    if (this.state === 'open') return;
    const { maxMessages, maxBytes } = this.options;
    if (!(Number.isInteger(maxMessages) && maxMessages >= 1) || !(maxBytes >= 1)) {
      throw new FieldgateError('journal_config', 'journal capacity must be at least 1 message and 1 byte');
    }
    try {
      this.attach();
    } catch (err) {
      const failure = openError(this.options.path, err);
      if (this.options.onOpenFailure !== 'retry') throw failure;
      this.state = 'unavailable';
      this.unavailable = { reason: failure.message, lastTry: this.options.clock.now() };
      this.options.logger.error(
        { err: failure.message, path: this.options.path },
        `journal cannot be opened; readings are refused and counted until it can (retrying every ${RETRY_OPEN_MS / 1000} s)`,
      );
    }
  }

  close(): void {
    const store = this.store;
    this.state = 'closed';
    this.unavailable = undefined;
    this.recent.clear();
    this.reporter.flush(true);
    if (!store) return;
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
    // Whether another process wrote the file is checked inside the append's own transaction.
    const store = this.usable('in_transaction');
    if (entries.length === 0) return { stored: [], refused: 0, evicted: 0 };
    if (!store) return this.refuseAll(entries.length);
    let plan = this.plan(entries);
    this.coverSeqs(plan);
    try {
      let committed: Committed | undefined;
      for (let attempt = 1; committed === undefined; attempt += 1) {
        try {
          committed = store.commit(plan, this.c, this.dataVersion);
        } catch (err) {
          // Another process (`fieldgate buffer purge`) wrote the file since the counters were
          // read: nothing was written; reload them and plan again (seqs are never reused).
          if (!(err instanceof ForeignWriteError) || attempt >= FOREIGN_WRITE_RETRIES) throw err;
          this.reload(store);
          plan = this.plan(entries);
          this.coverSeqs(plan);
        }
      }
      const done = this.adopt(committed);
      // An eviction may take cached rows (or this call's own first ones): start the cache afresh.
      let rows: JournalEntry[] | undefined;
      if (done.evicted > 0) this.recent.clear();
      else if (plan.accepted.length > 0) rows = this.recent.added(plan.accepted);
      this.reporter.note('drop_newest', plan.refused, 'capacity');
      this.reporter.note('drop_oldest', done.evicted, this.space.limited ? 'disk_space' : 'capacity');
      this.space.maintainReserve();
      return rows ? { stored: done.stored, refused: plan.refused, evicted: done.evicted, rows } : { stored: done.stored, refused: plan.refused, evicted: done.evicted };
    } catch (err) {
      if (isCorrupt(err) && this.recoverCorrupt(err)) return this.append(entries);
      if (!isDiskFull(err)) throw writeError('append', err);
      return this.appendOnDiskFull(store, plan, err);
    }
  }

  readAfter(afterSeq: number, limit: number): JournalEntry[] {
    // A forwarder that is caught up asks after every acknowledgement: nothing newer exists.
    if (this.state === 'open' && afterSeq >= this.c.lastSeq) return [];
    const store = this.usable();
    if (!store || !(limit >= 1)) return [];
    // Live forwarding reads what was just committed: from memory (usable() has checked that no
    // other process wrote the file meanwhile, else it reloaded and emptied the cache).
    const cached = this.recent.after(afterSeq, Math.floor(limit), this.c.lastSeq);
    if (cached) return cached;
    try {
      return store.readAfter(afterSeq, Math.floor(limit), this.c);
    } catch (err) {
      if (isCorrupt(err) && this.recoverCorrupt(err)) return [];
      throw err;
    }
  }

  remove(seqs: readonly number[]): void {
    const store = this.usable();
    if (!store) return;
    if (seqs.length === 0) return this.expire(store, false);
    const sorted = ascendingDistinct(seqs);
    const before = this.c.depth;
    try {
      this.adopt(store.remove(sorted, this.c, this.options.clock.now()));
    } catch (err) {
      this.recent.clear();
      if (isCorrupt(err) && this.recoverCorrupt(err)) return;
      throw writeError('remove', err);
    }
    this.recent.removed(sorted[sorted.length - 1]!);
    if (!store.keepsDelivered) this.removedSinceReclaim += before - this.c.depth;
    this.expire(store, false);
    if (this.removedSinceReclaim >= RECLAIM_CHECK_ROWS) this.reclaim(store);
  }

  readHeld(afterSeq: number, toSeq: number, limit: number): HeldEntry[] {
    const store = this.usable();
    if (!store || !(limit >= 1)) return [];
    try {
      return store.readHeld(afterSeq, toSeq, Math.floor(limit));
    } catch (err) {
      if (isCorrupt(err) && this.recoverCorrupt(err)) return [];
      throw err;
    }
  }

  /** Deletes delivered rows past keep_delivered when a run is due (at open: always). */
  private expire(store: SqliteStore, force: boolean): void {
    const cutoff = this.expiry.cutoff(this.options.clock.now(), force);
    if (cutoff === undefined || this.c.deliveredDepth === 0) return;
    try {
      this.removedSinceReclaim += this.adopt(store.expire(cutoff, this.c)).freed ?? 0;
    } catch (err) {
      // They are tried again at the next run; meanwhile they only take room delivered rows give up anyway.
      this.options.logger.warn({ err: errorText(err) }, 'journal could not expire delivered rows');
    }
  }

  stats(): JournalStats {
    const store = this.usable();
    this.reporter.flush(false);
    const oldest = store && this.c.depth > 0 ? store.oldest(this.c) : undefined;
    const oldestDelivered = store && this.c.deliveredDepth > 0 ? store.delivered?.oldestDelivered() : undefined;
    return {
      journalId: this.identity ? formatJournalId(this.identity.journalId) : '',
      available: store !== undefined,
      resets: { ...this.resets },
      depth: this.c.depth,
      bytes: this.c.bytes,
      fileBytes: (fileSizeOrUndefined(this.options.path) ?? 0) + (fileSizeOrUndefined(`${this.options.path}-wal`) ?? 0),
      oldestSeq: oldest?.seq ?? null,
      oldestTs: oldest?.ts ?? null,
      lastSeq: this.c.lastSeq,
      drops: { ...this.c.drops },
      delivered: {
        depth: this.c.deliveredDepth,
        bytes: this.c.deliveredBytes,
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
      const store = this.usable();
      if (!store) return;
      const rows = store.exportPage(after, since, until, EXPORT_PAGE, this.c);
      yield* rows;
      if (rows.length < EXPORT_PAGE) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  purge(): number {
    const store = this.usable();
    if (!store) throw new FieldgateError('journal_unavailable', `journal is not available: ${this.unavailable?.reason ?? 'closed'}`);
    let removed: number;
    this.recent.clear();
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

  /**
   * The open store, reopening an unavailable journal when its retry is due; undefined if none.
   * `in_transaction`: the caller checks for other writers inside its own transaction instead.
   */
  private usable(foreignWrites: 'check' | 'in_transaction' = 'check'): SqliteStore | undefined {
    if (this.state === 'closed') throw new FieldgateError('journal_closed', 'journal is not open');
    if (this.state === 'unavailable') this.retryOpen();
    const store = this.store;
    if (!store) return undefined;
    // Another process (`fieldgate buffer purge` next to a running gateway) wrote the file: the
    // in-memory counters are stale, so reload them rather than trust them.
    if (foreignWrites === 'check' && store.dataVersion() !== this.dataVersion) this.reload(store);
    return store;
  }

  private retryOpen(): void {
    const u = this.unavailable;
    const now = this.options.clock.now();
    if (!u || now - u.lastTry < RETRY_OPEN_MS) return;
    u.lastTry = now;
    try {
      this.attach();
      this.options.logger.warn({ path: this.options.path, refused: this.unsavedRefusals }, 'journal is available again');
    } catch (err) {
      u.reason = openError(this.options.path, err).message;
    }
  }

  private refuseAll(n: number): AppendResult {
    this.unsavedRefusals += n;
    this.c = { ...this.c, drops: { ...this.c.drops, drop_newest: this.c.drops.drop_newest + n } };
    this.reporter.note('drop_newest', n, `journal unavailable: ${this.unavailable?.reason ?? 'closed'}`);
    return { stored: [], refused: n, evicted: 0 };
  }

  /** Opens the file (see journal-opener.ts) and makes what was found this journal's state. */
  private attach(floorSeq = 0, reasonIfNew?: ResetReason, movedTo?: string): void {
    const o = this.options;
    const opened = openJournal({
      file: o.path, settings: { synchronous: o.synchronous, maxPageCount: o.maxPageCount },
      limits: { maxMessages: o.maxMessages, whenFull: o.whenFull, keepDelivered: (o.keepDeliveredMs ?? 0) > 0 }, budget: this.budget, lease: this.lease,
      logger: o.logger, clock: o.clock,
    }, Math.max(floorSeq, this.c.lastSeq), reasonIfNew, movedTo);
    let c = opened.counters;
    if (this.unsavedRefusals > 0) {
      c = { ...c, drops: { ...c.drops, drop_newest: c.drops.drop_newest + this.unsavedRefusals }, dropsDirty: true };
      this.unsavedRefusals = 0;
    }
    this.store = opened.store;
    this.recent.clear();
    this.state = 'open';
    this.unavailable = undefined;
    this.c = c;
    this.dataVersion = opened.store.dataVersion();
    this.removedSinceReclaim = 0;
    this.identity = opened.identity;
    this.opening = opened.opening;
    const reason = opened.opening.reset?.reason;
    if (reason) this.resets[reason] += 1;
    this.coverSeq(c.lastSeq + 1);
    o.logger.info({ path: o.path, journal: opened.opening.journalId, depth: c.depth, lastSeq: c.lastSeq }, 'journal opened');
    if (this.expiry.enabled && !opened.store.keepsDelivered) {
      o.logger.warn({ path: o.path }, 'the journal file cannot take the delivered_at column yet (disk full?): delivered rows are deleted, not kept, until a later start');
    }
    this.expire(opened.store, true);
    o.onOpen?.(opened.opening);
  }

  /** Extends the seq lease before a seq above it is handed out. */
  private coverSeqs(plan: Plan): void {
    const last = plan.accepted.at(-1);
    if (last) this.coverSeq(last.seq);
  }

  private coverSeq(seq: number): void {
    const id = this.identity;
    if (!id) return;
    // Formatted once per identity: this runs at every append.
    if (this.identityText?.id !== id) this.identityText = { id, text: formatJournalId(id.journalId) };
    const ok = this.lease.cover(this.identityText.text, seq);
    if (ok === !this.leaseFailing) return;
    this.leaseFailing = !ok;
    if (ok) this.options.logger.info('seq lease written again');
    else this.options.logger.warn({ file: leasePathFor(this.options.path) }, 'cannot write the seq lease (disk full?); seq stays safe unless the journal file is lost too');
  }

  /** A corrupt page met at run time: move the file aside and continue in a new journal. */
  private recoverCorrupt(err: unknown): boolean {
    if (this.recovering) return false;
    this.recovering = true;
    const lastSeq = this.c.lastSeq;
    try {
      this.store?.db.close();
      this.store = undefined;
      this.recent.clear();
      const aside = moveAside(this.options.path, this.options.clock.now());
      this.options.logger.error({ path: this.options.path, movedTo: aside, err: errorText(err) }, 'journal turned out corrupt; moved aside');
      this.c = { ...emptyCountersAt(lastSeq), persistedSeq: 0, drops: this.c.drops };
      this.attach(lastSeq, 'corrupt', aside);
      return true;
    } catch (again) {
      this.state = 'unavailable';
      this.unavailable = { reason: errorText(again), lastTry: this.options.clock.now() };
      return false;
    } finally {
      this.recovering = false;
    }
  }

  private reload(store: SqliteStore): void {
    this.recent.clear();
    const drops = this.c.dropsDirty ? this.c.drops : undefined;
    this.c = store.load();
    if (drops) this.c = { ...this.c, drops, dropsDirty: true };
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
    const { maxMessages, whenFull } = this.options;
    const { maxBytes, extraEvict } = this.space.capacity(this.c.bytes, () => this.store!.pages());
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
      if (size > this.options.maxBytes || (whenFull === 'drop_newest' && bytes + size > maxBytes)) {
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
    let evicted = 0;
    this.recent.clear();
    // Room for the checkpoint and the eviction's own WAL frames: without it, neither can run.
    this.space.releaseReserve();
    store.checkpoint();
    if (this.options.whenFull === 'drop_oldest' && this.c.depth > 0 && plan.accepted.length > 0) {
      // Free about twice what the call needs (pages hold overhead too), and at least 1% of the
      // journal so a disk that stays full is not hit on every single append.
      const want = plan.accepted.reduce((sum, p) => sum + p.size, 0);
      try {
        const rows = Math.max(plan.accepted.length, Math.ceil(this.c.depth / 100));
        const bytes = Math.max(2 * want, Math.ceil(this.c.bytes / 100), 64 * 1024);
        evicted = this.adopt(store.evictChunk(rows, bytes, this.c)).evicted;
        this.reporter.note('drop_oldest', evicted, 'disk_full');
        store.checkpoint();
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
      if (free >= RECLAIM_MIN_FREE_PAGES && free * 4 >= pages && !this.space.limited) {
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

/** The seqs ascending and without repeats; acknowledgements mostly arrive that way already. */
function ascendingDistinct(seqs: readonly number[]): number[] {
  let ordered = true;
  for (let i = 1; i < seqs.length && ordered; i++) ordered = seqs[i]! > seqs[i - 1]!;
  return ordered ? [...seqs] : [...new Set(seqs)].sort((a, b) => a - b);
}

function emptyCounters(): Counters {
  return { ...emptyCountersAt(0), persistedSeq: 0 };
}

function openError(file: string, err: unknown): FieldgateError {
  if (err instanceof FieldgateError) return err;
  const code = sqliteCode(err) || String((err as NodeJS.ErrnoException | undefined)?.code ?? '');
  return new FieldgateError('journal_open', `cannot open journal ${file}: ${errorText(err)}${code ? ` (${code})` : ''}`, {
    kind: 'retryable', cause: err,
  });
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
