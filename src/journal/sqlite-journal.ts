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
// - Capacity is max_messages rows and max_bytes, where an entry's size is its payload bytes plus
//   its topic's UTF-8 bytes (SQLite's own overhead, ~30-40 bytes a row, is not counted).
//   drop_oldest evicts the oldest rows (possibly earlier entries of the same call, which then
//   consume a seq without being written); drop_newest refuses the entries that do not fit and
//   gives them no seq. An entry larger than max_bytes on its own is refused under either policy.
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
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { FieldgateError, errorText } from '../util/errors.js';
import { DropReporter } from './drop-reporter.js';
import type {
  AppendResult, DropReason, Journal, JournalEntry, JournalStats, NewEntry, Qos,
} from './journal.js';
import { META_KEYS, migrate } from './journal-schema.js';

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

interface Planned {
  seq: number;
  ts: number;
  topic: string;
  qos: Qos;
  retain: boolean;
  payload: Buffer;
  size: number;
}

interface Plan {
  accepted: Planned[];
  refused: number;
}

interface Committed {
  stored: number[];
  /** meta.last_seq after the transaction. */
  persistedSeq: number;
  evicted: number;
  depthDelta: number;
  bytesDelta: number;
  lastSeq: number;
  drops: Record<DropReason, number>;
}

interface Row {
  seq: number;
  ts: number;
  topic: string;
  qos: number;
  retain: number;
  payload: Buffer;
}

interface Statements {
  insert: BetterSqlite3.Statement<[number, number, string, number, number, number, Buffer]>;
  setMeta: BetterSqlite3.Statement<[number, string]>;
  readAfter: BetterSqlite3.Statement<[number, number], Row>;
  exportPage: BetterSqlite3.Statement<[number, number, number, number], Row>;
  oldest: BetterSqlite3.Statement<[], { seq: number; ts: number }>;
  oldestSizes: BetterSqlite3.Statement<[], { seq: number; size: number }>;
  deleteUpTo: BetterSqlite3.Statement<[number]>;
  deleteOne: BetterSqlite3.Statement<[number], { size: number }>;
  rangeTotals: BetterSqlite3.Statement<[number, number], { n: number; b: number | null }>;
  deleteRange: BetterSqlite3.Statement<[number, number]>;
  deleteAll: BetterSqlite3.Statement<[]>;
  maxSeq: BetterSqlite3.Statement<[], number | null>;
  dataVersion: BetterSqlite3.Statement<[], number>;
}

interface Open {
  db: BetterSqlite3.Database;
  st: Statements;
  /** One append: capacity eviction, inserts, meta; returns the new counters to adopt after COMMIT. */
  commit: (plan: Plan) => Committed;
  saveDrops: (drops: Record<DropReason, number>) => void;
  /** Evicts at least `rows` oldest rows holding at least `bytes` and records the drops. */
  evictChunk: (rows: number, bytes: number) => Committed;
  removeSeqs: (sortedSeqs: number[]) => { n: number; b: number; persistedSeq: number };
  purgeAll: () => Committed;
}

const BUSY_TIMEOUT_MS = 5_000;
const WAL_SIZE_LIMIT = 16 * 1024 * 1024;
const EXPORT_PAGE = 500;
// Runs of consecutive seqs at least this long are removed with one range DELETE.
const RANGE_REMOVE_MIN = 8;
// Free-list housekeeping: look after this many removed rows; reclaim when the free list is over
// both thresholds, RECLAIM_STEP_PAGES per remove call so no single call stalls the forwarder.
const RECLAIM_CHECK_ROWS = 4_096;
const RECLAIM_MIN_FREE_PAGES = 1_024;
const RECLAIM_STEP_PAGES = 256;

export class SqliteJournal implements Journal {
  private state: Open | undefined;
  private depth = 0;
  private bytes = 0;
  private lastSeq = 0;
  private persistedSeq = 0;
  private drops: Record<DropReason, number> = { drop_oldest: 0, drop_newest: 0, purge: 0 };
  // Drops counted while the disk was too full to record them; written with the next commit.
  private dropsDirty = false;
  private removedSinceReclaim = 0;
  // PRAGMA data_version moves only when another connection commits (`fieldgate buffer purge` next
  // to a running gateway); the counters are then reloaded instead of trusted.
  private dataVersion = 0;
  private readonly reporter: DropReporter;

  constructor(private readonly options: SqliteJournalOptions) {
    this.reporter = new DropReporter(options.logger, options.clock);
  }

  open(): void {
    if (this.state) return;
    const { path: file, maxMessages, maxBytes } = this.options;
    if (!(Number.isInteger(maxMessages) && maxMessages >= 1) || !(maxBytes >= 1)) {
      throw new FieldgateError('journal_config', `journal capacity must be at least 1 message and 1 byte`);
    }
    let db: BetterSqlite3.Database;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    } catch (err) {
      throw new FieldgateError('journal_open', `cannot open journal ${file}: ${errorText(err)}`, { cause: err });
    }
    try {
      // Must precede the WAL switch: that writes page 1, after which auto_vacuum is fixed until a
      // VACUUM. On an existing journal file this is a no-op.
      db.pragma('auto_vacuum = INCREMENTAL');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, WAL refused`);
      db.pragma(`synchronous = ${this.options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      migrate(db);
      if (this.options.maxPageCount !== undefined) db.pragma(`max_page_count = ${this.options.maxPageCount}`);
      this.state = this.prepare(db);
      this.load(db);
    } catch (err) {
      this.state = undefined;
      db.close();
      if (err instanceof FieldgateError) throw err;
      throw new FieldgateError('journal_open', `cannot open journal ${file}: ${errorText(err)}`, { cause: err });
    }
    this.options.logger.info({ path: file, depth: this.depth, lastSeq: this.lastSeq }, 'journal opened');
  }

  close(): void {
    const s = this.state;
    if (!s) return;
    this.reporter.flush(true);
    if (this.dropsDirty) {
      try {
        s.saveDrops(this.drops);
        this.dropsDirty = false;
      } catch (err) {
        this.options.logger.warn({ err }, 'journal could not record drop counters on close');
      }
    }
    this.state = undefined;
    s.db.close();
  }

  append(entries: NewEntry[]): AppendResult {
    const s = this.open_();
    if (entries.length === 0) return { stored: [], refused: 0, evicted: 0 };
    const plan = this.plan(entries);
    try {
      const done = this.adopt(s.commit(plan));
      this.reporter.note('drop_newest', plan.refused, 'capacity');
      this.reporter.note('drop_oldest', done.evicted, 'capacity');
      return { stored: done.stored, refused: plan.refused, evicted: done.evicted };
    } catch (err) {
      if (!isDiskFull(err)) throw writeError('append', err);
      return this.appendOnDiskFull(s, plan, err);
    }
  }

  readAfter(afterSeq: number, limit: number): JournalEntry[] {
    const s = this.open_();
    if (!(limit >= 1)) return [];
    return s.st.readAfter.all(afterSeq, Math.floor(limit)).map(toEntry);
  }

  remove(seqs: readonly number[]): void {
    const s = this.open_();
    if (seqs.length === 0) return;
    const sorted = [...new Set(seqs)].sort((a, b) => a - b);
    let gone: { n: number; b: number; persistedSeq: number };
    try {
      gone = s.removeSeqs(sorted);
    } catch (err) {
      throw writeError('remove', err);
    }
    this.depth -= gone.n;
    this.bytes -= gone.b;
    this.persistedSeq = gone.persistedSeq;
    this.removedSinceReclaim += gone.n;
    if (this.removedSinceReclaim >= RECLAIM_CHECK_ROWS) this.reclaim(s);
  }

  stats(): JournalStats {
    const s = this.open_();
    this.reporter.flush(false);
    const oldest = this.depth > 0 ? s.st.oldest.get() : undefined;
    return {
      depth: this.depth,
      bytes: this.bytes,
      fileBytes: fileSize(this.options.path) + fileSize(`${this.options.path}-wal`),
      oldestSeq: oldest?.seq ?? null,
      oldestTs: oldest?.ts ?? null,
      lastSeq: this.lastSeq,
      drops: { ...this.drops },
    };
  }

  *export(since: number, until: number): Iterable<JournalEntry> {
    // Paged by seq so the connection is free between pages: appends and removes may interleave
    // with a long export without "connection is busy" errors.
    let after = 0;
    for (;;) {
      const rows = this.open_().st.exportPage.all(after, since, until, EXPORT_PAGE);
      for (const row of rows) yield toEntry(row);
      if (rows.length < EXPORT_PAGE) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  purge(): number {
    const s = this.open_();
    let done: Committed;
    try {
      done = this.adopt(s.purgeAll());
    } catch (err) {
      throw writeError('purge', err);
    }
    this.removedSinceReclaim = 0;
    try {
      s.db.pragma('incremental_vacuum');
      s.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.options.logger.warn({ err }, 'journal could not shrink its file after purge');
    }
    this.options.logger.warn({ dropped: { purge: done.evicted } }, `journal purged ${done.evicted} entries`);
    return done.evicted;
  }

  private open_(): Open {
    const s = this.state;
    if (!s) throw new FieldgateError('journal_closed', 'journal is not open');
    if (s.st.dataVersion.get() !== this.dataVersion) this.load(s.db);
    return s;
  }

  /** Decides, before any write, which entries are refused and which seq each other one gets. */
  private plan(entries: NewEntry[]): Plan {
    const { maxMessages, maxBytes, whenFull } = this.options;
    const accepted: Planned[] = [];
    let refused = 0;
    let seq = this.lastSeq;
    let depth = this.depth;
    let bytes = this.bytes;
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

  /** Makes a committed transaction's outcome the in-memory truth. */
  private adopt(done: Committed): Committed {
    this.depth += done.depthDelta;
    this.bytes += done.bytesDelta;
    this.lastSeq = done.lastSeq;
    this.persistedSeq = done.persistedSeq;
    this.drops = done.drops;
    this.dropsDirty = false;
    return done;
  }

  private appendOnDiskFull(s: Open, plan: Plan, err: unknown): AppendResult {
    let evicted = 0;
    if (this.options.whenFull === 'drop_oldest' && this.depth > 0 && plan.accepted.length > 0) {
      const want = plan.accepted.reduce((sum, p) => sum + p.size, 0);
      try {
        evicted = this.adopt(s.evictChunk(
          Math.max(plan.accepted.length, Math.ceil(this.depth / 100)),
          Math.max(2 * want, Math.ceil(this.bytes / 100)),
        )).evicted;
        this.reporter.note('drop_oldest', evicted, 'disk_full');
        const done = this.adopt(s.commit(plan));
        this.reporter.note('drop_newest', plan.refused, 'capacity');
        this.reporter.note('drop_oldest', done.evicted, 'capacity');
        return { stored: done.stored, refused: plan.refused, evicted: evicted + done.evicted };
      } catch (retryErr) {
        if (!isDiskFull(retryErr)) throw writeError('append', retryErr);
      }
    }
    // Nothing could be made to fit: the whole call is refused and no seq is consumed.
    const refused = plan.refused + plan.accepted.length;
    this.drops = { ...this.drops, drop_newest: this.drops.drop_newest + refused };
    this.dropsDirty = true;
    try {
      s.saveDrops(this.drops);
      this.dropsDirty = false;
    } catch (saveErr) {
      if (!isDiskFull(saveErr)) throw writeError('append', saveErr);
    }
    this.reporter.note('drop_newest', refused, `disk_full: ${errorText(err)}`);
    return { stored: [], refused, evicted };
  }

  private reclaim(s: Open): void {
    try {
      const free = Number(s.db.pragma('freelist_count', { simple: true }));
      const pages = Number(s.db.pragma('page_count', { simple: true }));
      if (free >= RECLAIM_MIN_FREE_PAGES && free * 4 >= pages) {
        s.db.pragma(`incremental_vacuum(${RECLAIM_STEP_PAGES})`);
        return; // keep stepping on the next removes until the free list is small
      }
      this.removedSinceReclaim = 0;
    } catch (err) {
      this.removedSinceReclaim = 0;
      this.options.logger.warn({ err }, 'journal could not reclaim free pages');
    }
  }

  private load(db: BetterSqlite3.Database): void {
    const meta = new Map(
      (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: number }[])
        .map((r) => [r.key, r.value]),
    );
    const totals = db.prepare('SELECT count(*) AS n, coalesce(sum(size), 0) AS b, max(seq) AS m FROM entries')
      .get() as { n: number; b: number; m: number | null };
    this.depth = totals.n;
    this.bytes = totals.b;
    this.persistedSeq = meta.get(META_KEYS.lastSeq) ?? 0;
    this.lastSeq = Math.max(this.persistedSeq, totals.m ?? 0);
    this.drops = {
      drop_oldest: meta.get(META_KEYS.dropsOldest) ?? 0,
      drop_newest: meta.get(META_KEYS.dropsNewest) ?? 0,
      purge: meta.get(META_KEYS.dropsPurge) ?? 0,
    };
    this.dropsDirty = false;
    this.removedSinceReclaim = 0;
    this.dataVersion = Number(db.pragma('data_version', { simple: true }));
  }

  // The transaction bodies read the in-memory counters but never change them: they return what
  // the counters become, and adopt() applies that once COMMIT has succeeded.
  private prepare(db: BetterSqlite3.Database): Open {
    const cols = 'seq, ts, topic, qos, retain, payload';
    const st: Statements = {
      insert: db.prepare('INSERT INTO entries (seq, ts, topic, qos, retain, size, payload) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      setMeta: db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
      readAfter: db.prepare(`SELECT ${cols} FROM entries WHERE seq > ? ORDER BY seq LIMIT ?`),
      exportPage: db.prepare(`SELECT ${cols} FROM entries WHERE seq > ? AND ts >= ? AND ts < ? ORDER BY seq LIMIT ?`),
      oldest: db.prepare('SELECT seq, ts FROM entries ORDER BY seq LIMIT 1'),
      oldestSizes: db.prepare('SELECT seq, size FROM entries ORDER BY seq'),
      deleteUpTo: db.prepare('DELETE FROM entries WHERE seq <= ?'),
      deleteOne: db.prepare('DELETE FROM entries WHERE seq = ? RETURNING size'),
      rangeTotals: db.prepare('SELECT count(*) AS n, sum(size) AS b FROM entries WHERE seq BETWEEN ? AND ?'),
      deleteRange: db.prepare('DELETE FROM entries WHERE seq BETWEEN ? AND ?'),
      deleteAll: db.prepare('DELETE FROM entries'),
      maxSeq: db.prepare<[], number | null>('SELECT max(seq) FROM entries').pluck(),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    };
    const saveSeq = (seq: number): number => {
      if (seq !== this.persistedSeq) st.setMeta.run(seq, META_KEYS.lastSeq);
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

    const commit = (plan: Plan): Committed => {
      const { maxMessages, maxBytes, whenFull } = this.options;
      let toWrite = plan.accepted;
      let evicted = 0;
      let evictedRows = 0;
      let bytesDelta = 0;
      if (whenFull === 'drop_oldest') {
        const addBytes = toWrite.reduce((sum, p) => sum + p.size, 0);
        let rowsOver = this.depth + toWrite.length - maxMessages;
        let bytesOver = this.bytes + addBytes - maxBytes;
        if (rowsOver > 0 || bytesOver > 0) {
          const old = evictOldest(Math.min(rowsOver, this.depth), bytesOver);
          evicted = old.n;
          evictedRows = old.n;
          bytesDelta -= old.b;
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
      for (const p of toWrite) {
        st.insert.run(p.seq, p.ts, p.topic, p.qos, p.retain ? 1 : 0, p.size, p.payload);
        bytesDelta += p.size;
      }
      const last = plan.accepted.at(-1);
      const lastSeq = last ? last.seq : this.lastSeq;
      // No row written (all evicted again) while rows may have gone: the seq lives in meta only.
      const persistedSeq = toWrite.length === 0 ? saveSeq(lastSeq) : this.persistedSeq;
      const drops = {
        ...this.drops,
        drop_oldest: this.drops.drop_oldest + evicted,
        drop_newest: this.drops.drop_newest + plan.refused,
      };
      if (this.dropsDirty || evicted > 0 || plan.refused > 0) saveDrops(drops);
      return {
        stored: plan.accepted.map((p) => p.seq),
        evicted,
        depthDelta: toWrite.length - evictedRows,
        bytesDelta,
        lastSeq,
        persistedSeq,
        drops,
      };
    };
    const evictChunk = (rows: number, bytes: number): Committed => {
      const persistedSeq = saveSeq(this.lastSeq);
      const old = evictOldest(rows, bytes);
      const drops = { ...this.drops, drop_oldest: this.drops.drop_oldest + old.n };
      saveDrops(drops);
      return {
        stored: [], evicted: old.n, depthDelta: -old.n, bytesDelta: -old.b, lastSeq: this.lastSeq, persistedSeq, drops,
      };
    };
    const purgeAll = (): Committed => {
      // Read the newest seq under the write lock: another process may be appending meanwhile.
      const lastSeq = Math.max(this.lastSeq, st.maxSeq.get() ?? 0);
      const persistedSeq = saveSeq(lastSeq);
      const n = st.deleteAll.run().changes;
      const drops = { ...this.drops, purge: this.drops.purge + n };
      saveDrops(drops);
      return {
        stored: [], evicted: n, depthDelta: -this.depth, bytesDelta: -this.bytes, lastSeq, persistedSeq, drops,
      };
    };
    return {
      db,
      st,
      commit: db.transaction(commit).immediate,
      saveDrops: db.transaction(saveDrops).immediate,
      evictChunk: db.transaction(evictChunk).immediate,
      removeSeqs: db.transaction((seqs: number[]) => {
        // Deleting the newest row would lose the last seq unless meta holds it.
        const persistedSeq = seqs[seqs.length - 1]! >= this.lastSeq ? saveSeq(this.lastSeq) : this.persistedSeq;
        return { ...removeSorted(st, seqs), persistedSeq };
      }).immediate,
      purgeAll: db.transaction(purgeAll).immediate,
    };
  }
}

/** Deletes the given ascending, distinct seqs; seqs not present are skipped. Returns rows and bytes removed. */
function removeSorted(st: Statements, seqs: number[]): { n: number; b: number } {
  let n = 0;
  let b = 0;
  let i = 0;
  while (i < seqs.length) {
    let j = i + 1;
    while (j < seqs.length && seqs[j] === seqs[j - 1]! + 1) j += 1;
    if (j - i >= RANGE_REMOVE_MIN) {
      const lo = seqs[i]!;
      const hi = seqs[j - 1]!;
      const t = st.rangeTotals.get(lo, hi)!;
      if (t.n > 0) {
        st.deleteRange.run(lo, hi);
        n += t.n;
        b += t.b ?? 0;
      }
    } else {
      for (let k = i; k < j; k += 1) {
        const row = st.deleteOne.get(seqs[k]!);
        if (row) {
          n += 1;
          b += row.size;
        }
      }
    }
    i = j;
  }
  return { n, b };
}

function toEntry(row: Row): JournalEntry {
  return {
    seq: row.seq,
    ts: row.ts,
    topic: row.topic,
    qos: row.qos as Qos,
    retain: row.retain === 1,
    payload: row.payload,
  };
}

function isDiskFull(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code.startsWith('SQLITE_FULL');
}

function writeError(op: string, err: unknown): FieldgateError {
  if (err instanceof FieldgateError) return err;
  const code = err instanceof Database.SqliteError ? err.code : '';
  const retryable = code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_LOCKED');
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
