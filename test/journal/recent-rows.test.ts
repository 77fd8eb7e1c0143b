import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../src/journal/journal.js';
import { RecentRows } from '../../src/journal/recent-rows.js';

function rows(from: number, to: number, bytes = 10): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (let seq = from; seq <= to; seq++) {
    out.push({ seq, ts: seq, topic: 't', qos: 1, retain: false, encoding: 'json', payload: Buffer.alloc(bytes) });
  }
  return out;
}
const seqs = (xs: JournalEntry[] | undefined) => xs?.map((r) => r.seq);

describe('RecentRows', () => {
  it('answers reads inside the cached run up to the newest seq, and nothing else', () => {
    const r = new RecentRows(100, 1e6);
    r.added(rows(5, 9));
    expect(seqs(r.after(4, 10, 9))).toEqual([5, 6, 7, 8, 9]);
    expect(seqs(r.after(6, 2, 9))).toEqual([7, 8]);
    expect(r.after(9, 10, 9)).toEqual([]);
    expect(r.after(3, 10, 9)).toBeUndefined(); // seq 4 may still be in the file
    expect(r.after(4, 10, 10)).toBeUndefined(); // seq 10 exists but was not cached
  });

  it('starts a new run when a commit does not continue the cached one', () => {
    const r = new RecentRows(100, 1e6);
    r.added(rows(1, 3));
    r.added(rows(6, 7));
    expect(r.size).toBe(2);
    expect(r.after(3, 10, 7)).toBeUndefined();
    expect(seqs(r.after(5, 10, 7))).toEqual([6, 7]);
  });

  it('drops every row up to the highest removed seq, so a removed row is never served', () => {
    const r = new RecentRows(100, 1e6);
    r.added(rows(1, 10));
    r.dropThrough(4);
    expect(r.after(0, 10, 10)).toBeUndefined();
    expect(seqs(r.after(4, 10, 10))).toEqual([5, 6, 7, 8, 9, 10]);
    r.dropThrough(2); // below the run: nothing changes
    expect(r.size).toBe(6);
    r.dropThrough(10);
    expect(r.size).toBe(0);
    expect(r.after(4, 10, 10)).toBeUndefined();
  });

  it('drops the rows a reader has read past, and serves those after them', () => {
    const r = new RecentRows(100, 1e6);
    r.added(rows(1, 10));
    r.dropThrough(6);
    expect(r.size).toBe(4);
    expect(r.after(0, 10, 10)).toBeUndefined();
    expect(seqs(r.after(6, 10, 10))).toEqual([7, 8, 9, 10]);
    r.dropThrough(3); // behind the run (a rewind): nothing changes
    expect(r.size).toBe(4);
    r.dropThrough(10);
    expect(r.size).toBe(0);
    r.added(rows(11, 12)); // the next commit continues from the same seq
    expect(seqs(r.after(10, 10, 12))).toEqual([11, 12]);
  });

  it('keeps at most maxRows rows and maxBytes payload bytes, dropping the oldest', () => {
    const byRows = new RecentRows(3, 1e6);
    byRows.added(rows(1, 5));
    expect(byRows.size).toBe(3);
    expect(byRows.after(1, 10, 5)).toBeUndefined();
    expect(seqs(byRows.after(2, 10, 5))).toEqual([3, 4, 5]);
    const byBytes = new RecentRows(100, 25);
    byBytes.added(rows(1, 4, 10));
    expect(byBytes.size).toBe(2);
    expect(seqs(byBytes.after(2, 10, 4))).toEqual([3, 4]);
  });

  it('stays consistent over many commits and removes (compaction)', () => {
    const r = new RecentRows(2048, 1e9);
    let last = 0;
    for (let i = 0; i < 500; i++) {
      r.added(rows(last + 1, last + 10));
      last += 10;
      r.dropThrough(last - 5);
      expect(seqs(r.after(last - 5, 100, last))).toEqual([last - 4, last - 3, last - 2, last - 1, last]);
    }
  });

  it('serves copies without extra fields', () => {
    const r = new RecentRows(10, 1e6);
    const planned = { ...rows(1, 1)[0]!, size: 11 };
    r.added([planned]);
    expect(r.after(0, 1, 1)![0]).toEqual(rows(1, 1)[0]);
  });
});
