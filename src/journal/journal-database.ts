// The journal's SQLite database file: opening it with the journal's settings (WAL, incremental
// auto_vacuum, synchronous, busy timeout) and migrating it (journal-schema.ts), and what SQLite's
// errors mean to the journal (disk full, corrupt, failing disk; the read-only JournalReader asks
// the same questions). The journal's design rules are at the top of sqlite-journal.ts.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import type { SyncMode } from './journal.js';
import { migrate } from './journal-schema.js';

export interface OpenSettings {
  synchronous: SyncMode;
  /** Caps the file at this many pages (PRAGMA max_page_count): makes SQLITE_FULL reproducible in tests. */
  maxPageCount?: number;
  /** WAL pages between automatic checkpoints (keeps the WAL within the disk reserve). */
  walPages?: number;
  /** Keep the WAL index in process memory: the only way to open a WAL database on a full disk. */
  locking?: 'normal' | 'exclusive';
}

const BUSY_TIMEOUT_MS = 5_000;

/** Opens (creating directory and file if needed) and migrates the journal database. */
export function openDatabase(file: string, settings: OpenSettings): BetterSqlite3.Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // `timeout` is SQLite's busy_timeout: wait this long for another connection's lock (the CLI).
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    if (settings.locking === 'exclusive') db.pragma('locking_mode = EXCLUSIVE');
    // Must precede the WAL switch: that writes page 1, after which auto_vacuum is fixed until a
    // VACUUM. On an existing journal file this is a no-op.
    db.pragma('auto_vacuum = INCREMENTAL');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, WAL refused`);
    db.pragma(`synchronous = ${settings.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const walPages = settings.walPages ?? 1000;
    db.pragma(`wal_autocheckpoint = ${walPages}`);
    // The WAL file is reused after each checkpoint; trimmed only after an unusually big burst, so
    // its blocks stay allocated and a checkpointed WAL can be rewritten on a full disk.
    db.pragma(`journal_size_limit = ${Math.max(4 * walPages * pageSize, 1024 * 1024)}`);
    migrate(db);
    if (settings.maxPageCount !== undefined) db.pragma(`max_page_count = ${settings.maxPageCount}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export function isDiskFull(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code.startsWith('SQLITE_FULL');
}

export function sqliteCode(err: unknown): string {
  return err instanceof Database.SqliteError ? err.code : '';
}

/** The file is not a database or its pages are damaged: nothing but moving it aside helps. */
export function isCorrupt(err: unknown): boolean {
  const code = sqliteCode(err);
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

/** SQLite's error code, else the system's (ENOSPC, EROFS, ...); '' if neither. */
export function errorCode(err: unknown): string {
  return sqliteCode(err) || String((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** Errors a full or failing disk produces at open (the WAL index cannot be created, ...). */
export function isSpaceOrIo(err: unknown): boolean {
  const code = errorCode(err);
  return code.startsWith('SQLITE_FULL') || code.startsWith('SQLITE_IOERR') || code === 'ENOSPC' || code === 'EDQUOT';
}

/** A failing disk, not a full one (handled apart) nor a damaged file (moved aside): memory-fallback.ts. */
export function isStorageFailure(err: unknown): boolean {
  const code = errorCode(err);
  return code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')
    || code === 'EROFS' || code === 'EIO';
}
