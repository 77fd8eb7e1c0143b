// Schema of the SQLite journal and its migrations: how to get a database file to the current
// version. The journal's design rules are at the top of sqlite-journal.ts.
//
// On-disk format (schema version 1)
//   meta(key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID
//     schema_version, last_seq, drops_drop_oldest, drops_drop_newest, drops_purge,
//     journal_id (random 48-bit), created_at (epoch ms), open_boot (boot-marker.ts)
//   entries(seq INTEGER PRIMARY KEY, ts INTEGER, topic TEXT, qos INTEGER, retain INTEGER 0|1,
//           size INTEGER, payload BLOB, encoding INTEGER, delivered_at INTEGER)
//     encoding (1 json, 2 cbor, 3 text) was added without a schema bump, so an older fieldgate
//     still opens the file; its rows have NULL there and are read by their first byte.
//     delivered_at (epoch ms, NULL = not delivered) was added the same way; an older fieldgate
//     takes delivered rows for backlog and sends them once more.
//     seq is the rowid, so readAfter/remove walk the table's own B-tree. There is no index on ts:
//     export is a rare operator command and scans by seq filtering on ts (rows are nearly in ts
//     order, but not strictly: clocks jump and devices report late), which keeps appends lean.
//     export pages by seq, so it yields in journal order and never holds the connection busy.
//   A row costs its topic + payload plus ~30-40 bytes on disk (measured: ~180 bytes for a
//   ~150-byte entry). The WAL is checkpointed every DiskBudget.walPages pages and reused.
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { FieldgateError } from '../util/errors.js';
import { inferEncoding, type RowEncoding } from '../wire/row-encoding.js';
import type { JournalEntry, Qos } from './journal.js';

export const SCHEMA_VERSION = 1;

/** Keys of the meta table; every value is an integer. */
export const META_KEYS = {
  schemaVersion: 'schema_version',
  lastSeq: 'last_seq',
  dropsOldest: 'drops_drop_oldest',
  dropsNewest: 'drops_drop_newest',
  dropsPurge: 'drops_purge',
  // Added without a schema bump (older versions ignore unknown keys), written at open if absent.
  journalId: 'journal_id',
  createdAt: 'created_at',
  // The boot the gateway has the journal open in (boot-marker.ts); 0 after a clean close.
  openBoot: 'open_boot',
} as const;

// Each migration takes the database from version i to i + 1 and runs in its own transaction
// together with the version bump, so a crash mid-migration leaves the previous version intact.
const MIGRATIONS: readonly string[] = [
  // v1. `seq` is the rowid (INTEGER PRIMARY KEY without AUTOINCREMENT): the journal assigns it
  // from last_seq in meta. `size` (topic + payload bytes) is kept so eviction and remove can
  // adjust the in-memory byte counter without reading payloads; payload is the last column so
  // walking (seq, ts, size) never touches overflow pages.
  `CREATE TABLE entries (
     seq     INTEGER PRIMARY KEY,
     ts      INTEGER NOT NULL,
     topic   TEXT    NOT NULL,
     qos     INTEGER NOT NULL,
     retain  INTEGER NOT NULL,
     size    INTEGER NOT NULL,
     payload BLOB    NOT NULL
   );
   INSERT INTO meta (key, value) VALUES
     ('${META_KEYS.lastSeq}', 0),
     ('${META_KEYS.dropsOldest}', 0),
     ('${META_KEYS.dropsNewest}', 0),
     ('${META_KEYS.dropsPurge}', 0);`,
];

// Columns added after the versioned migrations, without a schema bump. Every statement fieldgate
// has ever run names its columns, so an older fieldgate (schema 1 too) reads and writes a file
// that has them exactly as before, its rows getting the column's default (NULL): rolling a
// release back keeps the journal and its backlog. ALTER TABLE ... ADD COLUMN only edits the
// schema record (no row is rewritten), in one transaction; a file that cannot take it (no room on
// the disk) is used without the column and gets it at a later open.
const ADDED_COLUMNS: readonly { table: string; column: string; sql: string }[] = [
  // The row's encoding as its writer knew it (ENCODING_CODES); NULL for rows written before.
  { table: 'entries', column: 'encoding', sql: 'ALTER TABLE entries ADD COLUMN encoding INTEGER' },
  // When the row's delivery was confirmed (epoch ms), for rows kept by buffer.keep_delivered;
  // NULL = not yet delivered. An older fieldgate ignores it and sends such rows again.
  { table: 'entries', column: 'delivered_at', sql: 'ALTER TABLE entries ADD COLUMN delivered_at INTEGER' },
];

/** entries.encoding on disk. NULL marks a row written by a fieldgate that did not store it. */
const ENCODING_CODES: Readonly<Record<RowEncoding, number>> = { json: 1, cbor: 2, text: 3 };
const ENCODING_BY_CODE: readonly (RowEncoding | undefined)[] = [undefined, 'json', 'cbor', 'text'];

export function encodingCode(encoding: RowEncoding): number {
  return ENCODING_CODES[encoding];
}

/** A stored row's encoding; rows from before the column existed are read off their bytes, once, here. */
export function encodingOf(code: number | null, payload: Buffer): RowEncoding {
  return (code === null ? undefined : ENCODING_BY_CODE[code]) ?? inferEncoding(payload);
}

/** An entries row as SELECTed (encoding may be `NULL AS encoding` on a file without the column). */
export interface StoredRow {
  seq: number;
  ts: number;
  topic: string;
  qos: number;
  retain: number;
  encoding: number | null;
  payload: Buffer;
}

export function toEntry(row: StoredRow): JournalEntry {
  return {
    seq: row.seq, ts: row.ts, topic: row.topic, qos: row.qos as Qos, retain: row.retain === 1,
    encoding: encodingOf(row.encoding, row.payload), payload: row.payload,
  };
}

export function hasColumn(db: BetterSqlite3.Database, table: string, column: string): boolean {
  return db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get(table, column) !== undefined;
}

/**
 * Brings the database to SCHEMA_VERSION. The caller sets auto_vacuum before anything touches a
 * new file (it can only be chosen before the first table exists); this checks it took.
 */
export function migrate(db: BetterSqlite3.Database): void {
  const hasMeta = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
    .get() !== undefined;
  if (!hasMeta) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
    if (tables.n > 0) {
      throw new FieldgateError('journal_foreign_db', 'journal file holds tables but no fieldgate meta table');
    }
    if (Number(db.pragma('auto_vacuum', { simple: true })) !== 2) {
      throw new FieldgateError('journal_auto_vacuum', 'auto_vacuum=INCREMENTAL did not take on a new journal');
    }
    db.transaction(() => {
      db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID');
      db.prepare('INSERT INTO meta (key, value) VALUES (?, 0)').run(META_KEYS.schemaVersion);
    }).immediate();
  }
  const readVersion = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
  const setVersion = db.prepare('UPDATE meta SET value = ? WHERE key = ?');
  let version = Number(readVersion.get(META_KEYS.schemaVersion) ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new FieldgateError(
      'journal_schema_newer',
      `journal schema version ${version} is newer than this fieldgate understands (${SCHEMA_VERSION})`,
    );
  }
  while (version < SCHEMA_VERSION) {
    const sql = MIGRATIONS[version]!;
    const next = version + 1;
    db.transaction(() => {
      db.exec(sql);
      setVersion.run(next, META_KEYS.schemaVersion);
    }).immediate();
    version = next;
  }
  for (const added of ADDED_COLUMNS) {
    if (hasColumn(db, added.table, added.column)) continue;
    try {
      db.transaction(() => db.exec(added.sql)).immediate();
    } catch (err) {
      if (!(err instanceof Database.SqliteError && /^SQLITE_(FULL|IOERR)/.test(err.code))) throw err;
    }
  }
}
