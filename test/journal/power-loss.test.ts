// A journal the machine went down with (power cut, hard reset, system crash) may come back older
// than what its gateway had published: its last seqs must not be handed out again, or consumers
// drop the new readings as duplicates. The gateway marks the journal open in its boot; another
// boot finding the mark continues seq above the lease, logs it as an error and counts it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { LEASE_SIZE, leasePathFor } from '../../src/journal/seq-lease.js';
import { bootKey, readBootId } from '../../src/journal/boot-marker.js';
import { entries } from './journal-helpers.js';
import { captureLogger, ERROR } from '../service/capture-logger.js';
import { tempDirs } from '../support/temp-dirs.js';

const BOOT_A = '0b6d3c1e-8a8f-4f0e-9a55-2f8b2c6a1d01';
const BOOT_B = '7c21f0aa-1d2e-4b3c-8d4e-5f6a7b8c9d02';

function journalAt(file: string, bootId?: string) {
  const log = captureLogger();
  const j = new SqliteJournal({
    path: file, maxMessages: 10_000, maxBytes: 10_000_000, whenFull: 'drop_oldest', synchronous: 'normal',
    logger: log.logger, clock: { now: () => Date.parse('2026-12-01T08:00:00Z') }, reserveBytes: 64 * 1024,
    ...(bootId === undefined ? {} : { bootId }),
  });
  return { j, log };
}

const tempDir = tempDirs('fg-power-loss-');

/** The files as the machine left them when it went down with the journal open (seq lease included). */
function copyOpenJournal(file: string): string {
  const into = path.join(tempDir(), 'buffer.db');
  for (const suffix of ['', '-wal']) fs.copyFileSync(file + suffix, into + suffix);
  fs.copyFileSync(leasePathFor(file), leasePathFor(into));
  return into;
}

/** A gateway's journal in boot A: seqs 1..5 handed out, 1..3 delivered; copied while still open. */
function wentDownInBootA(): { original: string; copy: string; close(): void } {
  const original = path.join(tempDir(), 'buffer.db');
  const { j } = journalAt(original, BOOT_A);
  j.open();
  j.append(entries(5));
  j.remove([1, 2, 3]);
  return { original, copy: copyOpenJournal(original), close: () => j.close() };
}

function ceilingOf(file: string): number {
  return (JSON.parse(fs.readFileSync(leasePathFor(file), 'utf8')) as { seq_ceiling: number }).seq_ceiling;
}

describe('SqliteJournal after the machine went down with it open', () => {
  it('continues seq above its lease in the next boot, keeps its backlog, logs an error and counts it', () => {
    const down = wentDownInBootA();
    down.close();
    const ceiling = ceilingOf(down.copy);
    const { j, log } = journalAt(down.copy, BOOT_B);
    j.open();
    expect(j.opened).toMatchObject({ nextSeq: ceiling + 1, reset: { reason: 'power_loss', previousCeiling: ceiling } });
    expect(j.readAfter(0, 10).map((e) => e.seq)).toEqual([4, 5]);
    expect(j.append(entries(1)).stored).toEqual([ceiling + 1]);
    expect(j.stats().resets).toEqual({ missing: 0, replaced: 0, corrupt: 0, power_loss: 1 });
    const errors = log.lines.filter((l) => l.level === ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ reason: 'power_loss', nextSeq: ceiling + 1 });
    expect(String(errors[0]!.msg)).toMatch(/machine went down .* seq continues above every seq handed out before/);
    j.close();
  });

  it('without its lease (it could not be written), still continues a whole lease above its last seq', () => {
    const down = wentDownInBootA();
    down.close();
    fs.rmSync(leasePathFor(down.copy));
    const { j } = journalAt(down.copy, BOOT_B);
    j.open();
    expect(j.opened).toMatchObject({ nextSeq: 5 + LEASE_SIZE + 1, reset: { reason: 'power_loss' } });
    j.close();
  });

  it('takes a restart in the same boot (the process was killed, the page cache kept everything) as no loss', () => {
    const down = wentDownInBootA();
    down.close();
    const { j, log } = journalAt(down.copy, BOOT_A);
    j.open();
    expect(j.opened?.reset).toBeUndefined();
    expect(j.append(entries(1)).stored).toEqual([6]);
    expect(log.lines.filter((l) => l.level === ERROR)).toHaveLength(0);
    j.close();
  });

  it('takes a journal closed cleanly as closed in the next boot', () => {
    const down = wentDownInBootA();
    down.close();
    const { j } = journalAt(down.original, BOOT_B);
    j.open();
    expect(j.opened?.reset).toBeUndefined();
    expect(j.append(entries(1)).stored).toEqual([6]);
    j.close();
  });

  it('leaves the mark alone when opened by a command (no boot id), so the gateway still sees it', () => {
    const down = wentDownInBootA();
    down.close();
    const command = journalAt(down.copy);
    command.j.open();
    expect(command.j.opened?.reset).toBeUndefined();
    command.j.close();
    const { j } = journalAt(down.copy, BOOT_B);
    j.open();
    expect(j.opened?.reset?.reason).toBe('power_loss');
    j.close();
  });

  it('reports nothing for a new journal or one written by a fieldgate that did not mark it', () => {
    const fresh = journalAt(path.join(tempDir(), 'buffer.db'), BOOT_B);
    fresh.j.open();
    expect(fresh.j.opened?.reset).toBeUndefined();
    fresh.j.close();
    // As an older fieldgate leaves it: no open_boot in meta.
    const older = path.join(tempDir(), 'buffer.db');
    const old = journalAt(older);
    old.j.open();
    old.j.append(entries(2));
    const copy = copyOpenJournal(older);
    old.j.close();
    const { j } = journalAt(copy, BOOT_B);
    j.open();
    expect(j.opened?.reset).toBeUndefined();
    expect(j.append(entries(1)).stored).toEqual([3]);
    j.close();
  });
});

describe('boot ids', () => {
  it('reads this boot from /proc (Linux) and turns ids into distinct non-zero integers', () => {
    expect(readBootId()).toMatch(/^[0-9a-f-]{36}$/);
    expect(readBootId(path.join(tempDir(), 'absent'))).toBeUndefined();
    expect(bootKey(BOOT_A)).not.toBe(bootKey(BOOT_B));
    expect(bootKey(BOOT_A)).toBe(0x0b6d3c1e8a8f);
    expect(bootKey('00000000-0000-0000-0000-000000000000')).toBe(1);
    expect(bootKey('not-hex')).toBeGreaterThan(0);
    expect(bootKey('not-hex')).toBe(bootKey('not-hex'));
  });
});
