// A journal whose storage fails under it (a worn SD card gone read-only) goes on in memory with
// the same seqs and its backlog, so readings keep flowing; it never hands out a seq above the
// lease on disk, and a later run in the same boot continues above what it may have handed out.
// The failing storage is real: ext4 on a loop device, turned read-only by an ext4 error
// (harness/loop-disk.ts; needs root). The marker's reading needs no failing disk.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteJournal, type SqliteJournalOptions } from '../../src/journal/sqlite-journal.js';
import { leasePathFor } from '../../src/journal/seq-lease.js';
import { readMemorySeqs, recordMemorySeqs } from '../../src/journal/memory-marker.js';
import { entries } from './journal-helpers.js';
import { captureLogger, ERROR } from '../service/capture-logger.js';
import { tempDirs } from '../support/temp-dirs.js';
import { canMakeLoopDisks, type LoopDisk, makeLoopDisk } from '../integration/harness/loop-disk.js';

const tempDir = tempDirs('fg-memory-fallback-');
const BOOT = '3f0c5a7e-2b1d-4c8e-9f6a-1d2e3f4a5b6c';
const disks: LoopDisk[] = [];
const opened: SqliteJournal[] = [];
afterEach(() => {
  // Closed before their disks are unmounted, also when a test failed halfway.
  for (const j of opened.splice(0)) {
    try {
      j.close();
    } catch {
      // already closed
    }
  }
  for (const d of disks.splice(0)) d.close();
});

function journalAt(file: string, options: Partial<SqliteJournalOptions> = {}) {
  const log = captureLogger();
  const j = new SqliteJournal({
    path: file, maxMessages: 10_000, maxBytes: 10_000_000, whenFull: 'drop_oldest', synchronous: 'normal',
    logger: log.logger, clock: { now: () => Date.parse('2026-12-01T08:00:00Z') }, reserveBytes: 64 * 1024,
    memoryFallbackBytes: 1024 * 1024, bootId: BOOT, ...options,
  });
  opened.push(j);
  return { j, log };
}

function onDisk(): { file: string; disk: LoopDisk; runtimeDir: string } {
  const dir = tempDir();
  const disk = makeLoopDisk(dir, 64 * 1024 * 1024);
  disks.push(disk);
  return { file: path.join(disk.mnt, 'buffer.db'), disk, runtimeDir: path.join(dir, 'run') };
}

const seqs = (j: SqliteJournal) => j.readAfter(0, 1_000).map((e) => e.seq);
const failures = (lines: { level: number; msg: string }[]) => lines.filter((l) => l.level === ERROR && l.msg.startsWith('journal storage failed'));

describe.skipIf(!canMakeLoopDisks())('SqliteJournal when its storage fails (loop-device disk; needs root)', () => {
  it('goes on in memory with its backlog and the same seqs, logs it once, and says so in its stats', () => {
    const { file, disk, runtimeDir } = onDisk();
    const { j, log } = journalAt(file, { runtimeDir });
    j.open();
    j.append(entries(5));
    j.remove([1, 2]);
    disk.fail();
    expect(j.append(entries(3)).stored).toEqual([6, 7, 8]);
    expect(seqs(j)).toEqual([3, 4, 5, 6, 7, 8]);
    j.remove([3, 4, 6]);
    expect(j.append(entries(2)).stored).toEqual([9, 10]);
    expect(seqs(j)).toEqual([5, 7, 8, 9, 10]);
    expect(j.stats()).toMatchObject({ available: true, storage: 'memory', depth: 5, lastSeq: 10 });
    expect(failures(log.lines)).toHaveLength(1);
    expect(failures(log.lines)[0]).toMatchObject({ backlogCopied: 3, backlogLeftInFile: 0 });
    // What it may hand out is recorded for a later run in this boot.
    const ceiling = (JSON.parse(fs.readFileSync(leasePathFor(file), 'utf8')) as { seq_ceiling: number }).seq_ceiling;
    expect(readMemorySeqs(runtimeDir, j.stats().journalId)).toBe(ceiling);
    // A stop loses what memory holds, and says so.
    j.close();
    expect(log.lines.filter((l) => l.level === ERROR && l.msg.startsWith('journal closed while in memory'))).toEqual([
      expect.objectContaining({ undelivered: 5, lastSeq: 10 }),
    ]);
  });

  it('hands out no seq above the lease on disk', () => {
    const { file, disk } = onDisk();
    const first = journalAt(file);
    first.j.open();
    first.j.append(entries(5));
    const id = first.j.stats().journalId;
    first.j.close();
    // A lease that ends at 8 and cannot be renewed (immutable: not even root may replace it), as
    // a journal may be left with when its storage fails just before a renewal.
    fs.writeFileSync(leasePathFor(file), `${JSON.stringify({ journal_id: id, seq_ceiling: 8 })}\n`);
    execFileSync('chattr', ['+i', leasePathFor(file)]);
    const { j } = journalAt(file);
    j.open();
    expect(j.append(entries(2)).stored).toEqual([6, 7]);
    disk.fail();
    expect(j.append(entries(4))).toMatchObject({ stored: [8], refused: 3 });
    expect(j.stats()).toMatchObject({ storage: 'memory', lastSeq: 8 });
    j.close();
  });

  it('keeps the newest of its backlog that fit in buffer.memory_fallback (drop_oldest)', () => {
    const { file, disk } = onDisk();
    const { j, log } = journalAt(file, { memoryFallbackBytes: 1_000 });
    j.open();
    j.append(entries(30, 'x'.repeat(90)));
    disk.fail();
    j.append(entries(1, 'x'.repeat(90)));
    const held = seqs(j);
    expect(held.at(-1)).toBe(31);
    expect(held.length).toBeLessThan(11);
    expect(held).toEqual(Array.from({ length: held.length }, (_, i) => 31 - held.length + 1 + i));
    // The newest rows that fit were copied; the new reading then made room by drop_oldest.
    const { backlogCopied, backlogLeftInFile } = failures(log.lines)[0] as unknown as { backlogCopied: number; backlogLeftInFile: number };
    expect(backlogCopied + backlogLeftInFile).toBe(30);
    expect(backlogCopied).toBeGreaterThanOrEqual(held.length - 1);
    expect(j.stats().drops.drop_oldest).toBe(backlogCopied - (held.length - 1));
    j.close();
  });

  it('started on a failed disk, refuses readings (and retries) instead of going on in memory', () => {
    const { file, disk } = onDisk();
    const first = journalAt(file);
    first.j.open();
    first.j.append(entries(3));
    first.j.close();
    disk.fail();
    // A later boot, on the read-only card: a run in memory here would hand out seqs no later
    // boot could know about, since the file cannot say that this run had it open.
    const { j } = journalAt(file, { bootId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', onOpenFailure: 'retry' });
    j.open();
    expect(j.append(entries(2))).toMatchObject({ stored: [], refused: 2 });
    expect(j.stats()).toMatchObject({ available: false, storage: 'file' });
  });

  it('with memory_fallback 0, fails the append as before', () => {
    const { file, disk } = onDisk();
    const { j } = journalAt(file, { memoryFallbackBytes: 0 });
    j.open();
    j.append(entries(2));
    disk.fail();
    expect(() => j.append(entries(1))).toThrow(/journal append failed/);
    expect(j.stats().storage).toBe('file');
    j.close();
  });
});

describe('SqliteJournal after a run in memory earlier in this boot', () => {
  it('continues seq above what that run may have handed out, logs it, and clears the record', () => {
    const file = path.join(tempDir(), 'buffer.db');
    const runtimeDir = path.join(tempDir(), 'run');
    const first = journalAt(file, { runtimeDir });
    first.j.open();
    first.j.append(entries(3));
    const id = first.j.stats().journalId;
    first.j.close();
    recordMemorySeqs(runtimeDir, id, 500);
    const { j, log } = journalAt(file, { runtimeDir });
    j.open();
    expect(j.opened?.nextSeq).toBe(501);
    expect(j.append(entries(1)).stored).toEqual([501]);
    expect(seqs(j)).toEqual([1, 2, 3, 501]);
    expect(log.lines.filter((l) => l.level === ERROR && l.msg.startsWith('an earlier run in this boot held the journal in memory'))).toHaveLength(1);
    expect(readMemorySeqs(runtimeDir, id)).toBeUndefined();
    j.close();
  });

  it('ignores a record of another journal', () => {
    const file = path.join(tempDir(), 'buffer.db');
    const runtimeDir = path.join(tempDir(), 'run');
    recordMemorySeqs(runtimeDir, '000000000001', 500);
    const { j } = journalAt(file, { runtimeDir });
    j.open();
    expect(j.append(entries(1)).stored).toEqual([1]);
    j.close();
  });
});
