// A journal on a real, tiny file system (a 2 MiB tmpfs mounted for each test): filled by the
// journal itself, filled by another file, reopened while full, and created on a disk with no
// room at all. The newest readings must keep flowing and every drop must be counted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteJournal, type SqliteJournalOptions } from '../../src/journal/sqlite-journal.js';
import type { NewEntry } from '../../src/journal/journal.js';
import { captureLogger } from '../service/capture-logger.js';

const mounts: string[] = [];

function tinyDisk(size = '2m'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of mounts.splice(0)) {
    execFileSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Writes filler files until the file system refuses another byte. */
function fillUp(dir: string): void {
  const chunk = Buffer.alloc(16 * 1024, 7);
  for (let i = 0; ; i += 1) {
    try {
      fs.writeFileSync(path.join(dir, `filler-${i}`), chunk);
    } catch {
      break;
    }
  }
  for (const size of [4096, 512, 1]) {
    for (let i = 0; ; i += 1) {
      try {
        fs.writeFileSync(path.join(dir, `crumb-${size}-${i}`), Buffer.alloc(size));
      } catch {
        break;
      }
    }
  }
}

function batch(n: number, bytes = 180): NewEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: 1_000 + i, topic: 'site/meter/p', qos: 1 as const, retain: false, encoding: 'text' as const,
    render: (seq: number) => Buffer.from(`${seq}|`.padEnd(bytes, 'x')),
  }));
}

function journalOn(dir: string, extra: Partial<SqliteJournalOptions> = {}) {
  const logger = captureLogger();
  let now = 1_000_000;
  const clock = { now: () => now };
  const j = new SqliteJournal({
    path: path.join(dir, 'buffer.db'), maxMessages: 1_000_000, maxBytes: 256 * 1024 * 1024,
    whenFull: 'drop_oldest', synchronous: 'normal', logger: logger.logger, clock, ...extra,
  });
  return { j, logger, advance: (ms: number) => (now += ms) };
}

describe('SqliteJournal on a full disk', () => {
  it('keeps storing the newest readings when it fills the disk itself, evicting the oldest and counting them', () => {
    const dir = tinyDisk();
    const { j, logger, advance } = journalOn(dir);
    j.open();
    let stored = 0;
    let evicted = 0;
    let lastSeq = 0;
    for (let i = 0; i < 400; i += 1) {
      const r = j.append(batch(50));
      expect(r.refused).toBe(0);
      stored += r.stored.length;
      evicted += r.evicted;
      lastSeq = r.stored.at(-1)!;
      advance(100);
    }
    // 20,000 rows of ~190 bytes is about twice the disk: the oldest had to go.
    expect(stored).toBe(20_000);
    expect(evicted).toBeGreaterThan(5_000);
    const s = j.stats();
    expect(s.drops.drop_oldest).toBe(evicted);
    expect(s.drops.drop_newest).toBe(0);
    expect(s.depth).toBe(stored - evicted);
    expect(j.readAfter(lastSeq - 1, 5).map((e) => e.seq)).toEqual([lastSeq]);
    expect(logger.lines.some((l) => /disk is short of room/.test(String(l.msg)))).toBe(true);
    j.close();
  });

  it('keeps storing the newest readings when another file fills the disk, and reopens on the full disk', () => {
    const dir = tinyDisk();
    const { j, advance } = journalOn(dir);
    j.open();
    for (let i = 0; i < 10; i += 1) j.append(batch(50));
    fillUp(dir);
    let evicted = 0;
    for (let i = 0; i < 100; i += 1) {
      const r = j.append(batch(20));
      expect(r.refused).toBe(0);
      expect(r.stored).toHaveLength(20);
      evicted += r.evicted;
      advance(100);
    }
    expect(evicted).toBeGreaterThan(0);
    const lastSeq = j.stats().lastSeq;
    j.close();

    // A restart on the still-full disk: opens, and goes on taking readings.
    const again = journalOn(dir);
    again.j.open();
    expect(again.j.stats()).toMatchObject({ available: true, lastSeq });
    for (let i = 0; i < 20; i += 1) {
      const r = again.j.append(batch(20));
      expect(r.stored).toHaveLength(20);
      again.advance(100);
    }
    expect(again.j.stats().lastSeq).toBe(lastSeq + 400);
    again.j.close();
  });

  it('starts without a journal on a disk with no room at all, counts what it refuses, and opens once space is back', () => {
    const dir = tinyDisk('1m');
    fillUp(dir);
    const { j, logger, advance } = journalOn(dir, { onOpenFailure: 'retry' });
    j.open();
    expect(j.stats()).toMatchObject({ available: false, depth: 0 });
    expect(j.append(batch(7))).toEqual({ stored: [], refused: 7, evicted: 0 });
    expect(j.readAfter(0, 10)).toEqual([]);
    expect(j.stats().drops.drop_newest).toBe(7);
    expect(logger.lines.some((l) => l.level === 50 && /cannot be opened/.test(String(l.msg)))).toBe(true);

    for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('filler-'))) fs.rmSync(path.join(dir, f));
    advance(5_000);
    const r = j.append(batch(3));
    expect(r.stored).toEqual([1, 2, 3]);
    expect(j.stats()).toMatchObject({ available: true, depth: 3 });
    j.close();
    // The refusals were recorded in the journal once it could be written.
    const reopened = journalOn(dir);
    reopened.j.open();
    expect(reopened.j.stats().drops.drop_newest).toBe(7);
    reopened.j.close();
  });
});
