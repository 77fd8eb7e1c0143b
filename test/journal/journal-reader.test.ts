// JournalReader, the read-only view `fieldgate buffer stats|export` use: next to a running
// journal, on a full disk (no room for SQLite's WAL index file), and on a damaged file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { JournalReader, type Unreadable } from '../../src/journal/journal-reader.js';
import type { NewEntry } from '../../src/journal/journal.js';
import { tempDirs } from '../support/temp-dirs.js';

const mounts: string[] = [];
afterEach(() => {
  for (const dir of mounts.splice(0)) {
    execFileSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
const tempDir = tempDirs('fg-reader-', 'each');

function entries(from: number, n: number): NewEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: 10_000 + from + i, topic: 'site/dev/p', qos: 1 as const, retain: false, encoding: 'json' as const,
    render: (seq: number) => Buffer.from(JSON.stringify({ value: from + i, seq, pad: 'x'.repeat(80) })),
  }));
}

function journal(file: string): SqliteJournal {
  const j = new SqliteJournal({
    path: file, maxMessages: 1_000_000, maxBytes: 1e9, whenFull: 'drop_oldest', synchronous: 'normal',
    logger: pino({ level: 'silent' }), clock: { now: () => Date.now() }, reserveBytes: 64 * 1024,
  });
  j.open();
  return j;
}

function all(reader: JournalReader, gaps: Unreadable[] = []): number[] {
  return [...reader.export(0, Number.MAX_SAFE_INTEGER, (g) => gaps.push(g))].map((e) => e.seq);
}

describe('JournalReader', () => {
  it('reads next to an open journal, with the same stats', () => {
    const file = path.join(tempDir(), 'buffer.db');
    const j = journal(file);
    j.append(entries(0, 300));
    j.remove([1, 2, 3]);
    const reader = JournalReader.open(file);
    expect(reader.mode).toBe('shared');
    const s = reader.stats();
    const js = j.stats();
    expect(s).toMatchObject({ journalId: js.journalId, depth: 297, bytes: js.bytes, oldestSeq: 4, lastSeq: 300 });
    expect(all(reader)).toEqual(Array.from({ length: 297 }, (_, i) => i + 4));
    reader.close();
    j.close();
  });

  it('reads a journal on a full disk, WAL included, without SQLite\'s WAL index file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-reader-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    mounts.push(dir);
    const file = path.join(dir, 'buffer.db');
    const j = journal(file);
    j.append(entries(0, 400));
    // A gateway killed with its WAL not yet checkpointed: keep copies, as kill -9 would leave them.
    fs.copyFileSync(file, `${file}.keep`);
    fs.copyFileSync(`${file}-wal`, `${file}-wal.keep`);
    j.close();
    for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
    fs.renameSync(`${file}.keep`, file);
    fs.renameSync(`${file}-wal.keep`, `${file}-wal`);
    fs.rmSync(path.join(dir, '.buffer.db.reserve'), { force: true });
    for (let i = 0; ; i += 1) {
      try {
        fs.writeFileSync(path.join(dir, `fill-${i}`), Buffer.alloc(i < 1000 ? 4096 : 1));
      } catch {
        if (i >= 1000) break;
        i = 999;
      }
    }
    const reader = JournalReader.open(file);
    expect(reader.mode).toBe('exclusive');
    expect(reader.stats()).toMatchObject({ depth: 400, lastSeq: 400 });
    expect(all(reader)).toHaveLength(400);
    reader.close();
  });

  it('exports what is readable from a damaged journal and names the seqs it could not read', () => {
    const file = path.join(tempDir(), 'buffer.db');
    const j = journal(file);
    for (let i = 0; i < 10; i += 1) j.append(entries(i * 300, 300));
    j.close();
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r+');
    // Overwrite three pages in the middle of the table with garbage.
    fs.writeSync(fd, Buffer.alloc(3 * 4096, 0xa5), 0, 3 * 4096, Math.floor(size / 8192) * 4096);
    fs.closeSync(fd);
    const reader = JournalReader.open(file);
    const gaps: Unreadable[] = [];
    const seqs = all(reader, gaps);
    reader.close();
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    expect(seqs[0]).toBe(1);
    expect(seqs.at(-1)).toBe(3000);
    expect(seqs.length).toBeGreaterThan(2500);
    expect(seqs.length).toBeLessThan(3000);
    for (let i = 1; i < seqs.length; i += 1) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
  });
});
