// SQLite specifics of buffer.keep_delivered (the behaviour itself is in the journal contract and
// the model test): what survives a restart, turning the setting off, and what an older fieldgate
// that does not know entries.delivered_at makes of the file.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { entries, ManualClock, sqliteJournals } from './journal-helpers.js';

const DAY = 86_400_000;

describe('SqliteJournal with keep_delivered', () => {
  const { options, open, reopen, release } = sqliteJournals({ keepDeliveredMs: DAY });

  it('keeps delivered rows and the backlog apart across a restart', () => {
    const o = options();
    let j = open(o);
    j.append(entries(300));
    j.remove(Array.from({ length: 200 }, (_, i) => i + 1));
    j.remove([250]);
    j = reopen(j, o);
    const s = j.stats();
    expect([s.depth, s.delivered.depth, s.oldestSeq, s.delivered.oldestSeq, s.lastSeq]).toEqual([99, 201, 201, 1, 300]);
    expect(j.readAfter(0, 3).map((e) => e.seq)).toEqual([201, 202, 203]);
    expect(j.readAfter(249, 1).map((e) => e.seq)).toEqual([251]);
    // All delivered, newest included: the last seq must survive the expiry of every row.
    j.remove(Array.from({ length: 100 }, (_, i) => i + 201));
    (o.clock as ManualClock).t += 2 * DAY;
    j = reopen(j, o);
    expect(j.stats()).toMatchObject({ depth: 0, lastSeq: 300, delivered: { depth: 0 } });
    expect(j.append(entries(1)).stored).toEqual([301]);
  });

  it('turned off, the next open deletes what was kept and nothing is re-sent', () => {
    const o = options();
    let j = open(o);
    j.append(entries(5));
    j.remove([1, 2, 3]);
    j = reopen(j, { ...o, keepDeliveredMs: 0 });
    expect(j.stats()).toMatchObject({ depth: 2, delivered: { depth: 0 }, drops: { drop_oldest: 0, drop_newest: 0, purge: 0 } });
    expect(j.readAfter(0, 10).map((e) => e.seq)).toEqual([4, 5]);
    j.remove([4]);
    expect(j.readHeld(0, 10, 10).map((e) => e.seq)).toEqual([5]);
  });

  it('an older fieldgate (no delivered_at in its statements) sees delivered rows as backlog and sends them again', () => {
    const o = options();
    const j = open(o);
    j.append(entries(3));
    j.remove([1, 2]);
    j.close();
    release(j);
    const db = new Database(o.path, { readonly: true });
    try {
      // The statement fieldgate used before the column: it names its columns and still works.
      const seqs = db.prepare('SELECT seq FROM entries WHERE seq > ? ORDER BY seq LIMIT ?').pluck().all(0, 10);
      expect(seqs).toEqual([1, 2, 3]);
      expect(db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('schema_version')).toBe(1);
    } finally {
      db.close();
    }
  });
});
