// JournalReader: what `fieldgate buffer stats|export` use to look into a journal file without
// changing it, whatever state the disk and the file are in:
// - next to a running gateway (a WAL reader, as before);
// - on a full disk, where SQLite cannot create the shared WAL index: the file is then opened with
//   the index in this process's memory (exclusive locking) and writes refused (query_only);
// - a corrupt file moved aside by the gateway: export reads row by row around damaged pages and
//   reports the seq ranges it could not read.
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import type { HeldEntry, JournalStats } from './journal.js';
import { META_KEYS, type StoredRow, hasColumn, toEntry } from './journal-schema.js';
import { isCorrupt, isSpaceOrIo } from './journal-database.js';
import { fileSizeOrUndefined, formatJournalId } from './journal-files.js';
import { FieldgateError, errorText } from '../util/errors.js';

/** The journal's stats as the file holds them (no process is asked about availability or resets). */
export type ReaderStats = Omit<JournalStats, 'available' | 'resets'>;

/** A stretch of seqs export could not read (damaged pages). */
export interface Unreadable {
  after: number;
  before: number;
  error: string;
}

const PAGE = 500;

export class JournalReader {
  private constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly file: string,
    /** How it was opened, for the operator: 'shared' or 'exclusive' (full disk). */
    readonly mode: 'shared' | 'exclusive',
  ) {}

  static open(file: string): JournalReader {
    try {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        db.prepare('SELECT count(*) FROM sqlite_master').get();
        return new JournalReader(db, file, 'shared');
      } catch (err) {
        db.close();
        throw err;
      }
    } catch (err) {
      if (!isSpaceOrIo(err)) throw readError(file, err);
    }
    // No room for the WAL index file: keep it in memory. Needs the write lock, so this only works
    // while no gateway has the journal open, which is the case on a disk this full.
    try {
      const db = new Database(file, { fileMustExist: true });
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('query_only = 1');
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      return new JournalReader(db, file, 'exclusive');
    } catch (err) {
      throw readError(file, err);
    }
  }

  stats(): ReaderStats {
    try {
      const meta = new Map(
        (this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: number }[]).map((r) => [r.key, r.value]),
      );
      const t = this.db.prepare('SELECT count(*) AS n, coalesce(sum(size), 0) AS b, max(seq) AS m FROM entries')
        .get() as { n: number; b: number; m: number | null };
      const held = this.deliveredColumn();
      const pending = held ? 'delivered_at IS NULL' : '1';
      const d = held
        ? this.db.prepare('SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM entries WHERE delivered_at IS NOT NULL').get() as { n: number; b: number }
        : { n: 0, b: 0 };
      const oldest = this.db.prepare(`SELECT seq, ts FROM entries WHERE ${pending} ORDER BY seq LIMIT 1`).get() as { seq: number; ts: number } | undefined;
      const oldestDelivered = held
        ? this.db.prepare('SELECT seq, ts FROM entries WHERE delivered_at IS NOT NULL ORDER BY seq LIMIT 1').get() as { seq: number; ts: number } | undefined
        : undefined;
      const id = meta.get(META_KEYS.journalId);
      return {
        journalId: id === undefined ? '-' : formatJournalId(id),
        depth: t.n - d.n,
        bytes: t.b - d.b,
        fileBytes: (fileSizeOrUndefined(this.file) ?? 0) + (fileSizeOrUndefined(`${this.file}-wal`) ?? 0),
        oldestSeq: oldest?.seq ?? null,
        oldestTs: oldest?.ts ?? null,
        lastSeq: Math.max(meta.get(META_KEYS.lastSeq) ?? 0, t.m ?? 0),
        drops: {
          drop_oldest: meta.get(META_KEYS.dropsOldest) ?? 0,
          drop_newest: meta.get(META_KEYS.dropsNewest) ?? 0,
          purge: meta.get(META_KEYS.dropsPurge) ?? 0,
        },
        delivered: { depth: d.n, bytes: d.b, oldestSeq: oldestDelivered?.seq ?? null, oldestTs: oldestDelivered?.ts ?? null },
      };
    } catch (err) {
      throw readError(this.file, err);
    }
  }

  /**
   * Undelivered rows (with `delivered`, the delivered ones kept by buffer.keep_delivered too) with
   * since <= ts < until, in seq order. Damaged pages are stepped over: `onUnreadable` hears of
   * each stretch of seqs that could not be read, and the export goes on after it.
   */
  *export(
    since: number, until: number, onUnreadable: (gap: Unreadable) => void = () => {}, options: { delivered?: boolean } = {},
  ): Generator<HeldEntry> {
    // A file last written by an older fieldgate has no encoding column (a reader does not add it).
    const encoding = this.hasColumn('encoding') ? 'encoding' : 'NULL AS encoding';
    const keeps = this.deliveredColumn();
    const delivered = keeps ? 'delivered_at IS NOT NULL' : '0';
    const which = keeps && options.delivered !== true ? 'AND delivered_at IS NULL' : '';
    const page = this.db.prepare(
      `SELECT seq, ts, topic, qos, retain, ${encoding}, payload, ${delivered} AS delivered FROM entries WHERE seq > ? AND ts >= ? AND ts < ? ${which} ORDER BY seq LIMIT ?`,
    );
    const probe = this.db.prepare('SELECT seq FROM entries WHERE seq > ? ORDER BY seq LIMIT 1').pluck();
    const ceiling = this.ceiling();
    let after = 0;
    for (;;) {
      let rows: StoredRow[];
      try {
        rows = page.all(after, since, until, PAGE) as StoredRow[];
      } catch (err) {
        if (!isCorrupt(err)) throw readError(this.file, err);
        // Read what can be read one row at a time up to the damage, then jump over it.
        const resume = this.skipDamage(page, probe, after, since, until, ceiling);
        yield* resume.rows;
        if (resume.next === undefined) {
          onUnreadable({ after: resume.lastGood, before: Number.POSITIVE_INFINITY, error: errorText(err) });
          return;
        }
        onUnreadable({ after: resume.lastGood, before: resume.next, error: errorText(err) });
        after = resume.next - 1;
        continue;
      }
      for (const r of rows) yield heldEntry(r);
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /** Up to `limit` rows, delivered or not, with afterSeq < seq <= toSeq (replay from the CLI). */
  readHeld(afterSeq: number, toSeq: number, limit: number): HeldEntry[] {
    const encoding = this.hasColumn('encoding') ? 'encoding' : 'NULL AS encoding';
    const delivered = this.deliveredColumn() ? 'delivered_at IS NOT NULL' : '0';
    try {
      return (this.db.prepare(
        `SELECT seq, ts, topic, qos, retain, ${encoding}, payload, ${delivered} AS delivered FROM entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
      ).all(afterSeq, toSeq, limit) as (StoredRow & { delivered: number })[]).map(heldEntry);
    } catch (err) {
      throw readError(this.file, err);
    }
  }

  close(): void {
    this.db.close();
  }

  private hasColumn(column: string): boolean {
    try {
      return hasColumn(this.db, 'entries', column);
    } catch (err) {
      throw readError(this.file, err);
    }
  }

  private deliveredColumn(): boolean {
    return this.hasColumn('delivered_at');
  }

  private ceiling(): number {
    try {
      const v = this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(META_KEYS.lastSeq) as number | undefined;
      return Math.max(v ?? 0, 1);
    } catch {
      return Number.MAX_SAFE_INTEGER;
    }
  }

  private skipDamage(
    page: BetterSqlite3.Statement, probe: BetterSqlite3.Statement, after: number, since: number, until: number, ceiling: number,
  ): { rows: HeldEntry[]; lastGood: number; next: number | undefined } {
    const rows: HeldEntry[] = [];
    let lastGood = after;
    // Single rows until the first one that fails.
    for (;;) {
      try {
        const one = page.all(lastGood, since, until, 1) as StoredRow[];
        if (one.length === 0) return { rows, lastGood, next: undefined };
        rows.push(heldEntry(one[0]!));
        lastGood = one[0]!.seq;
      } catch {
        break;
      }
    }
    // Then look further and further ahead for a key the B-tree can still reach.
    for (let step = 1; lastGood + step <= Math.max(ceiling, lastGood + 1) * 2; step *= 2) {
      try {
        const found = probe.get(lastGood + step) as number | undefined;
        if (found === undefined) return { rows, lastGood, next: undefined };
        // Confirm the row itself reads.
        page.all(found - 1, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1);
        return { rows, lastGood, next: found };
      } catch {
        // still inside the damage
      }
    }
    return { rows, lastGood, next: undefined };
  }
}

function heldEntry(row: StoredRow & { delivered?: number }): HeldEntry {
  return { ...toEntry(row), delivered: row.delivered === 1 };
}

function readError(file: string, err: unknown): FieldgateError {
  if (err instanceof FieldgateError) return err;
  const hint = isCorrupt(err) ? ' (the file is damaged beyond what can be read)' : '';
  return new FieldgateError('journal_read', `cannot read journal ${file}: ${errorText(err)}${hint}`, { cause: err });
}
