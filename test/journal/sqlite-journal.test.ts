import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { FieldgateError } from '../../src/util/errors.js';
import { describeJournalContract } from './journal-contract.js';
import { captureLogger, counts, entries, entry, makeTempDir, removeDir, sqliteJournals } from './journal-helpers.js';

describeJournalContract('SqliteJournal', (options) => {
  const dir = makeTempDir();
  const journal = new SqliteJournal({ ...options, path: path.join(dir, 'journal.db'), synchronous: 'normal' });
  journal.open();
  return {
    journal,
    dispose: () => {
      journal.close();
      removeDir(dir);
    },
  };
});

describe('SqliteJournal', () => {
  const { options, open } = sqliteJournals();

  it('creates its directory and a WAL database with incremental auto_vacuum and a schema version', () => {
    const o = options();
    o.path = path.join(path.dirname(o.path), 'a', 'b', 'journal.db');
    open(o).close();
    const db = new Database(o.path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
      expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  it('keeps last seq and drop counters across reopen, also after a drain and a purge', () => {
    const o = options({ maxMessages: 3, whenFull: 'drop_newest' });
    let j = open(o);
    j.append(entries(5)); // 2 refused
    j.close();
    j = open({ ...o, whenFull: 'drop_oldest' });
    expect(j.stats()).toMatchObject({ depth: 3, lastSeq: 3, drops: { drop_newest: 2, drop_oldest: 0 } });
    j.append(entries(2)); // 2 evicted
    j.remove([5]); // the newest row: its seq must outlive it
    j.close();
    j = open(o);
    expect(j.stats()).toMatchObject({ depth: 2, bytes: 2 * ('3|x'.length + 'site/dev/point'.length), lastSeq: 5 });
    expect(j.stats().drops).toEqual({ drop_oldest: 2, drop_newest: 2, purge: 0 });
    j.remove([3, 4]);
    j.close();
    j = open(o);
    expect(j.stats()).toMatchObject({ depth: 0, lastSeq: 5 });
    j.append(entries(2));
    expect(j.purge()).toBe(2);
    j.close();
    j = open(o);
    expect(j.stats()).toMatchObject({ depth: 0, lastSeq: 7, drops: { drop_oldest: 2, drop_newest: 2, purge: 2 } });
    expect(j.append(entries(1)).stored).toEqual([8]);
    expect(j.readAfter(0, 10).map((e) => e.payload.toString())).toEqual(['8|x']);
  });

  it('refuses a journal written by a newer schema, and a foreign database', () => {
    const o = options();
    open(o).close();
    const db = new Database(o.path);
    db.prepare("UPDATE meta SET value = 99 WHERE key = 'schema_version'").run();
    db.close();
    expect(() => new SqliteJournal(o).open()).toThrow(expect.objectContaining({ code: 'journal_schema_newer' }));
    const other = options();
    const foreign = new Database(other.path);
    foreign.exec('CREATE TABLE t (x)');
    foreign.close();
    expect(() => new SqliteJournal(other).open()).toThrow(expect.objectContaining({ code: 'journal_foreign_db' }));
  });

  it('throws a FieldgateError with the SQLite error as cause when a write fails for another reason', () => {
    const o = options();
    const j = open(o);
    j.append(entries(1));
    const db = new Database(o.path);
    db.exec("CREATE TRIGGER boom BEFORE INSERT ON entries BEGIN SELECT RAISE(ABORT, 'boom'); END");
    db.close();
    let thrown: unknown;
    try {
      j.append(entries(2));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(FieldgateError);
    expect((thrown as FieldgateError).code).toBe('journal_write');
    expect((thrown as Error).cause).toBeInstanceOf(Database.SqliteError);
    // Nothing moved: the failed transaction consumed no seq and left the counters alone.
    expect(j.stats()).toMatchObject({ depth: 1, lastSeq: 1 });
  });

  it('notices a purge made by another process (the CLI) and never reuses its seqs', () => {
    const o = options({ maxMessages: 5, whenFull: 'drop_newest' });
    const gateway = open(o);
    gateway.append(entries(5));
    const cli = open(o);
    expect(cli.stats()).toMatchObject({ depth: 5, lastSeq: 5 });
    gateway.remove([1]);
    gateway.append(entries(1)); // seq 6, unknown to the CLI's counters
    expect(cli.purge()).toBe(5);
    cli.close();
    expect(gateway.stats()).toMatchObject({ depth: 0, bytes: 0, lastSeq: 6, drops: { purge: 5 } });
    expect(gateway.append(entries(5)).stored).toEqual([7, 8, 9, 10, 11]);
    gateway.close();
    expect(open(o).stats().lastSeq).toBe(11);
  });

  it('plans an append on fresh counters when another process wrote the file just before it', () => {
    const o = options({ maxMessages: 5, whenFull: 'drop_newest' });
    const gateway = open(o);
    gateway.append(entries(5));
    const cli = open(o);
    expect(cli.purge()).toBe(5);
    cli.close();
    // Nothing between the purge and the append: the append's own transaction has to notice it,
    // or the stale depth (5 of 5) would refuse every entry.
    const r = gateway.append(entries(5));
    expect(counts(r)).toEqual({ stored: [6, 7, 8, 9, 10], refused: 0, evicted: 0 });
    expect(r.rows!.map((e) => e.seq)).toEqual([6, 7, 8, 9, 10]);
    expect(gateway.readAfter(0, 10).map((e) => e.seq)).toEqual([6, 7, 8, 9, 10]);
    expect(gateway.stats()).toMatchObject({ depth: 5, lastSeq: 10, drops: { purge: 5, drop_newest: 0 } });
    gateway.close();
  });

  it('serves just-committed rows from memory until the reader asks past them; a rewind reads the file', () => {
    const j = open(options());
    const r = j.append(entries(3));
    const live = j.readAfter(0, 10);
    expect(live.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(live[0]).toBe(r.rows![0]); // the committed row itself: no SELECT
    expect(j.readAfter(3, 10)).toEqual([]);
    const rewound = j.readAfter(0, 10);
    expect(rewound[0]).not.toBe(r.rows![0]);
    expect(rewound).toEqual(live);
    j.close();
  });

  it('never serves rows from memory that another process purged', () => {
    const o = options();
    const gateway = open(o);
    gateway.append(entries(3));
    expect(gateway.readAfter(0, 10).map((e) => e.seq)).toEqual([1, 2, 3]);
    const cli = open(o);
    expect(cli.purge()).toBe(3);
    cli.close();
    expect(gateway.readAfter(0, 10)).toEqual([]);
    expect(gateway.readAfter(1, 10)).toEqual([]);
    gateway.append(entries(2));
    expect(gateway.readAfter(3, 10).map((e) => e.seq)).toEqual([4, 5]);
  });

  it('gives disk space back after a purge and after large removes', () => {
    const o = options();
    const j = open(o);
    const body = 'v'.repeat(400);
    for (let i = 0; i < 20; i += 1) j.append(entries(1000, body));
    const mainFile = (): number => fs.statSync(o.path).size + fs.statSync(`${o.path}-wal`).size;
    const full = mainFile();
    expect(full).toBeGreaterThan(8_000_000);
    const seqs = j.readAfter(0, 20_000).map((e) => e.seq);
    for (let i = 0; i < seqs.length; i += 200) j.remove(seqs.slice(i, i + 200));
    j.close(); // checkpoints the WAL into the main file and truncates it
    const afterRemove = fs.statSync(o.path).size;
    expect(afterRemove).toBeLessThan(full / 2);

    const k = open(o);
    for (let i = 0; i < 10; i += 1) k.append(entries(1000, body));
    expect(k.purge()).toBe(10_000);
    expect(fs.statSync(o.path).size).toBeLessThan(200_000);
    expect(k.stats().fileBytes).toBeLessThan(200_000);
  });

  describe('when the disk is full (SQLITE_FULL via max_page_count)', () => {
    const big = 'p'.repeat(1500);

    it('drop_oldest evicts a chunk of the oldest rows, retries, and keeps accepting', () => {
      const { logger, lines } = captureLogger();
      const j = open(options({ whenFull: 'drop_oldest', maxPageCount: 40, logger }));
      let last = 0;
      let evicted = 0;
      for (let i = 0; i < 300; i += 1) {
        const r = j.append(i % 3 === 0 ? entries(4, big) : [entry(big)]);
        expect(r.refused).toBe(0);
        expect(r.stored[0]).toBe(last + 1);
        last = r.stored.at(-1)!;
        evicted += r.evicted;
      }
      const s = j.stats();
      expect(evicted).toBeGreaterThan(0);
      expect(s.drops).toEqual({ drop_oldest: evicted, drop_newest: 0, purge: 0 });
      expect(s.lastSeq).toBe(last);
      // What is left is the newest, contiguous, and intact.
      const rows = j.readAfter(0, 10_000);
      expect(rows.length).toBe(s.depth);
      expect(rows.at(-1)!.seq).toBe(last);
      rows.forEach((r, i) => {
        expect(r.seq).toBe(rows[0]!.seq + i);
        expect(r.payload.toString()).toBe(`${r.seq}|${big}`);
      });
      expect(lines.some((l) => l.level === 40 && String(l.cause).startsWith('disk_full'))).toBe(true);
    });

    it('drop_newest refuses without a seq, counts it, and accepts again once there is room', () => {
      const j = open(options({ whenFull: 'drop_newest', maxPageCount: 40 }));
      let refused = 0;
      for (let i = 0; i < 200; i += 1) refused += j.append([entry(big)]).refused;
      const s = j.stats();
      expect(refused).toBeGreaterThan(0);
      expect(s.drops).toEqual({ drop_oldest: 0, drop_newest: refused, purge: 0 });
      expect(s.lastSeq).toBe(s.depth);
      expect(s.lastSeq + refused).toBe(200);
      j.remove(j.readAfter(0, 10).map((e) => e.seq));
      expect(j.append([entry(big)]).stored).toEqual([s.lastSeq + 1]);
    });

    it('refuses an entry that cannot fit even in an emptied file, under either policy, without throwing', () => {
      for (const whenFull of ['drop_oldest', 'drop_newest'] as const) {
        const o = options({ whenFull, maxPageCount: 12 });
        const j = open(o);
        j.append([entry('small')]);
        expect(j.append([entry('h'.repeat(200_000))])).toMatchObject({ stored: [], refused: 1 });
        expect(j.stats()).toMatchObject({ lastSeq: 1, drops: { drop_newest: 1 } });
        j.close();
        expect(open(o).stats().drops.drop_newest).toBe(1);
      }
    });
  });
});
