// A lost, emptied, replaced or corrupt journal file must never make seq go backwards: consumers
// drop rows whose seq they have seen. Each case also has to be logged as an error and counted.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { LEASE_SIZE, leasePathFor } from '../../src/journal/seq-lease.js';
import type { NewEntry } from '../../src/journal/journal.js';
import { captureLogger, ERROR } from '../service/capture-logger.js';
import { tempDirs } from '../support/temp-dirs.js';

function entries(n: number): NewEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: 1_000 + i, topic: 't', qos: 1 as const, retain: false, encoding: 'text' as const, render: (seq: number) => Buffer.from(`${seq}|x`),
  }));
}

function journalAt(file: string) {
  const log = captureLogger();
  const j = new SqliteJournal({
    path: file, maxMessages: 10_000, maxBytes: 10_000_000, whenFull: 'drop_oldest', synchronous: 'normal',
    logger: log.logger, clock: { now: () => Date.parse('2026-11-30T08:00:00Z') }, reserveBytes: 64 * 1024,
  });
  return { j, log };
}

const tempDir = tempDirs('fg-lost-');

function freshFile(): string {
  return path.join(tempDir(), 'buffer.db');
}

/** A journal that handed out seqs 1..n and delivered the first `delivered` of them. */
function used(file: string, n: number, delivered = 0): string {
  const { j } = journalAt(file);
  j.open();
  j.append(entries(n));
  j.remove(Array.from({ length: delivered }, (_, i) => i + 1));
  const id = j.stats().journalId;
  j.close();
  return id;
}

function errors(log: ReturnType<typeof captureLogger>) {
  return log.lines.filter((l) => l.level === ERROR);
}

describe('SqliteJournal when its file is lost', () => {
  const cases: [string, (file: string) => void, 'missing' | 'corrupt' | 'replaced'][] = [
    ['deleted', (f) => { for (const s of ['', '-wal', '-shm']) fs.rmSync(f + s, { force: true }); }, 'missing'],
    ['truncated to zero bytes', (f) => { fs.rmSync(`${f}-wal`, { force: true }); fs.rmSync(`${f}-shm`, { force: true }); fs.writeFileSync(f, ''); }, 'missing'],
    ['overwritten with garbage', (f) => { fs.rmSync(`${f}-wal`, { force: true }); fs.writeFileSync(f, Buffer.alloc(8192, 0x5a)); }, 'corrupt'],
    ['replaced by another journal', (f) => {
      const other = freshFile();
      used(other, 3);
      fs.copyFileSync(other, f);
    }, 'replaced'],
  ];

  it.each(cases)('continues above every seq handed out before when the file was %s', (_what, damage, reason) => {
    const file = freshFile();
    const oldId = used(file, 50, 20);
    damage(file);
    const { j, log } = journalAt(file);
    j.open();
    const s = j.stats();
    expect(s.available).toBe(true);
    expect(s.journalId).not.toBe(oldId);
    expect(s.resets[reason]).toBe(1);
    const next = j.append(entries(2)).stored;
    expect(next[0]).toBeGreaterThan(50);
    expect(next[0]).toBeLessThanOrEqual(50 + LEASE_SIZE + 1);
    expect(j.opened?.reset).toMatchObject({ reason, previousJournalId: oldId });
    const err = errors(log);
    expect(err).toHaveLength(reason === 'corrupt' ? 2 : 1);
    expect(err.at(-1)).toMatchObject({ reason, previousJournal: oldId });
    j.close();
  });

  it('moves a corrupt journal aside, keeping its WAL, instead of deleting it', () => {
    const file = freshFile();
    used(file, 10);
    fs.writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const { j } = journalAt(file);
    j.open();
    const aside = j.opened?.reset?.movedTo;
    expect(aside).toMatch(/buffer\.db\.corrupt-2026-11-30T08-00-00-000Z$/);
    expect(fs.readFileSync(aside!)).toEqual(Buffer.alloc(8192, 0x5a));
    j.close();
  });

  it('continues above the old seqs when a foreign WAL is found beside a deleted journal', () => {
    const file = freshFile();
    used(file, 40);
    // Another journal's WAL, as a crash left it (copied while that journal was open).
    const other = freshFile();
    const { j: o } = journalAt(other);
    o.open();
    o.append(entries(5));
    const db = new Database(other);
    db.pragma('wal_checkpoint(PASSIVE)');
    db.close();
    o.append(entries(5));
    fs.rmSync(file);
    fs.copyFileSync(`${other}-wal`, `${file}-wal`);
    o.close();
    const { j } = journalAt(file);
    j.open();
    expect(j.append(entries(1)).stored[0]).toBeGreaterThan(40);
    expect(Object.values(j.stats().resets).reduce((a, b) => a + b, 0)).toBe(1);
    j.close();
  });

  it('keeps seqs contiguous on a normal restart, and recreates a lost lease from the journal', () => {
    const file = freshFile();
    used(file, 30);
    fs.rmSync(leasePathFor(file));
    const { j, log } = journalAt(file);
    j.open();
    expect(j.append(entries(1)).stored).toEqual([31]);
    expect(j.stats().resets).toEqual({ missing: 0, replaced: 0, corrupt: 0, power_loss: 0 });
    expect(errors(log)).toHaveLength(0);
    expect(JSON.parse(fs.readFileSync(leasePathFor(file), 'utf8'))).toMatchObject({ seq_ceiling: 31 + LEASE_SIZE });
    j.close();
  });

  it('extends the lease while half of it is still left, so that much is always covered', () => {
    const { ceiling, again } = journalAtSeq(LEASE_SIZE / 2);
    // The last seq with half a lease still above it: no write yet.
    expect(again.append(entries(1)).stored).toEqual([LEASE_SIZE / 2 + 1]);
    expect(ceiling()).toBe(1 + LEASE_SIZE);
    // The next one would leave less than half: the lease grows by a whole one.
    expect(again.append(entries(1)).stored).toEqual([LEASE_SIZE / 2 + 2]);
    expect(ceiling()).toBe(1 + 2 * LEASE_SIZE);
    again.close();
  });

  it('writes the lease before handing out a seq above it', () => {
    // Close to the ceiling the way a long life would get there, then across it.
    const { ceiling, again } = journalAtSeq(LEASE_SIZE - 1);
    const seqs = again.append(entries(5)).stored;
    expect(seqs.at(-1)).toBe(LEASE_SIZE + 4);
    expect(ceiling()).toBeGreaterThanOrEqual(seqs.at(-1)!);
    again.close();
  });
});

/**
 * A new journal whose lease was written at its first seq, reopened with its last seq moved to
 * `lastSeq` (and no rows), as a long life leaves it. `ceiling()` reads the lease file.
 */
function journalAtSeq(lastSeq: number): { ceiling: () => number; again: SqliteJournal } {
  const file = freshFile();
  const { j } = journalAt(file);
  j.open();
  j.append(entries(3));
  const ceiling = () => (JSON.parse(fs.readFileSync(leasePathFor(file), 'utf8')) as { seq_ceiling: number }).seq_ceiling;
  expect(ceiling()).toBe(1 + LEASE_SIZE);
  j.close();
  const db = new Database(file);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'last_seq'").run(lastSeq);
  db.prepare('DELETE FROM entries').run();
  db.close();
  const again = journalAt(file).j;
  again.open();
  return { ceiling, again };
}
