// Each row's encoding is stored with it (entries.encoding), added to existing journals without a
// schema bump: a journal written by an older fieldgate opens with its backlog, and an older
// fieldgate (rollback of a release) still reads and writes a journal this one has opened.
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { JournalReader } from '../../src/journal/journal-reader.js';
import { CborCodec } from '../../src/wire/cbor-codec.js';
import { entry, sqliteJournals } from './journal-helpers.js';

const cbor = new CborCodec();
const OLD_ROWS = [
  { seq: 1, payload: Buffer.from('{"value":1,"ts":"2026-11-26T06:40:00.000Z","seq":1}'), encoding: 'json' },
  { seq: 2, payload: cbor.encode({ value: 2, ts: 0, seq: 2 }), encoding: 'cbor' },
  { seq: 3, payload: Buffer.from('231.4'), encoding: 'text' },
] as const;

/** A journal file exactly as schema 1 without the encoding column left it, holding OLD_ROWS. */
function writeSchema1File(file: string): void {
  const db = new Database(file);
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE entries (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, topic TEXT NOT NULL, qos INTEGER NOT NULL,
      retain INTEGER NOT NULL, size INTEGER NOT NULL, payload BLOB NOT NULL);
    INSERT INTO meta (key, value) VALUES ('schema_version', 1), ('last_seq', 0), ('drops_drop_oldest', 0),
      ('drops_drop_newest', 0), ('drops_purge', 0);`);
  const insert = db.prepare('INSERT INTO entries (seq, ts, topic, qos, retain, size, payload) VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const r of OLD_ROWS) insert.run(r.seq, 1000, 't', 1, 0, r.payload.length + 1, r.payload);
  db.close();
}

function columns(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('entries') as string[]);
  } finally {
    db.close();
  }
}

function schemaVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('the stored encoding of journal rows', () => {
  const { options, open, release } = sqliteJournals({ maxMessages: 1000, maxBytes: 1e6 });

  it('is what the writer said, not what the bytes look like', () => {
    const j = open(options());
    j.append([entry('{"seq":1}', { encoding: 'text' }), entry('x', { encoding: 'cbor' }), entry('y', { encoding: 'json' })]);
    expect(j.readAfter(0, 10).map((e) => e.encoding)).toEqual(['text', 'cbor', 'json']);
  });

  it('a journal written before the column existed keeps its backlog; its rows are read by their bytes', () => {
    const o = options();
    writeSchema1File(o.path);
    const j = open(o);
    expect(j.readAfter(0, 10).map((e) => [e.seq, e.encoding])).toEqual(OLD_ROWS.map((r) => [r.seq, r.encoding]));
    expect(j.append([entry('{"seq":4}', { encoding: 'text' })]).stored).toEqual([4]);
    expect(j.readAfter(3, 10)[0]!.encoding).toBe('text');
    j.close();
    expect(columns(o.path)).toContain('encoding');
    // No schema bump: an older fieldgate accepts the file (it refuses a newer schema_version).
    expect(schemaVersion(o.path)).toBe(1);
  });

  it('an older fieldgate still reads and writes the file afterwards, and its rows read back here', () => {
    const o = options();
    const first = open(o);
    first.append([entry('{"a":1}', { encoding: 'text' })]);
    first.close();
    release(first);
    // The statements of the fieldgate before the column: they name their columns.
    const old = new Database(o.path);
    expect(old.prepare('SELECT seq, ts, topic, qos, retain, payload FROM entries').all()).toHaveLength(1);
    old.prepare('INSERT INTO entries (seq, ts, topic, qos, retain, size, payload) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(2, 1000, 't', 1, 0, 6, cbor.encode({ seq: 2 }));
    old.close();
    const j = open(o);
    expect(j.readAfter(0, 10).map((e) => e.encoding)).toEqual(['text', 'cbor']);
  });

  it('a file that could not take the column (disk full at open) is written and read without it', () => {
    const o = options();
    writeSchema1File(o.path);
    const db = new Database(o.path);
    try {
      const store = new SqliteStore(db, { maxMessages: 1000, whenFull: 'drop_oldest', keepDelivered: false });
      const c = store.load();
      const payload = Buffer.from('{"seq":4}');
      store.commit({
        accepted: [{ seq: 4, ts: 1, topic: 't', qos: 1, retain: false, encoding: 'text', payload, size: payload.length + 1 }],
        refused: 0, maxBytes: 1e6, extraEvict: 0,
      }, c);
      // Stored without its encoding, so read by its bytes like the rows before it.
      expect(store.readAfter(0, 10, c).map((e) => e.encoding)).toEqual(['json', 'cbor', 'text', 'json']);
    } finally {
      db.close();
    }
    expect(columns(o.path)).not.toContain('encoding');
  });

  it('`fieldgate buffer export` reads a journal of an older fieldgate without changing it', () => {
    const o = options();
    writeSchema1File(o.path);
    const reader = JournalReader.open(o.path);
    try {
      expect([...reader.export(0, Number.MAX_SAFE_INTEGER)].map((e) => e.encoding)).toEqual(OLD_ROWS.map((r) => r.encoding));
    } finally {
      reader.close();
    }
    expect(columns(o.path)).not.toContain('encoding');
  });
});
