// capacityForDisk is the rule that keeps a journal from filling its disk: table-tested here;
// journal-disk-full.test.ts shows it working on a real, tiny file system.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskBudget, capacityForDisk } from '../../src/journal/disk-budget.js';
import { tempDirs } from '../support/temp-dirs.js';

const MiB = 1024 * 1024;

describe('capacityForDisk', () => {
  const rows: [string, { bytes: number; maxBytes: number; allowance: number; free: number; used: number }, number, boolean][] = [
    ['plenty of disk: max_bytes', { bytes: 10 * MiB, maxBytes: 256 * MiB, allowance: 10_000 * MiB, free: 0, used: 20 * MiB }, 256 * MiB, false],
    ['disk smaller than max_bytes: grows into what is left', { bytes: 10 * MiB, maxBytes: 256 * MiB, allowance: 20 * MiB, free: 0, used: 20 * MiB }, 20 * MiB, true],
    ['no room left: only free pages', { bytes: 10 * MiB, maxBytes: 256 * MiB, allowance: 0, free: 2 * MiB, used: 20 * MiB }, 11 * MiB, true],
    ['over the headroom: no growth at all', { bytes: 10 * MiB, maxBytes: 256 * MiB, allowance: -5 * MiB, free: 0, used: 20 * MiB }, 10 * MiB, true],
    ['cap above max_bytes is max_bytes', { bytes: 1 * MiB, maxBytes: 2 * MiB, allowance: 3 * MiB, free: 0, used: 1 * MiB }, 2 * MiB, false],
    ['empty journal: a conservative ratio', { bytes: 0, maxBytes: 256 * MiB, allowance: 10 * MiB, free: 0, used: 4096 }, 2 * MiB, true],
  ];
  it.each(rows)('%s', (_name, input, cap, evictsExtra) => {
    const r = capacityForDisk({ ...input, minFree: 256 * 1024, pages: () => ({ free: input.free, used: input.used }) });
    expect(r.maxBytes).toBe(cap);
    expect(r.extraEvict > 0).toBe(evictsExtra);
  });

  it('does not look at the pages when the disk cannot limit', () => {
    const r = capacityForDisk({ bytes: 0, maxBytes: MiB, allowance: 100 * MiB, minFree: MiB, pages: () => { throw new Error('asked'); } });
    expect(r).toEqual({ maxBytes: MiB, extraEvict: 0 });
  });
});

describe('DiskBudget', () => {
  const tempDir = tempDirs('fg-budget-', 'each');

  it('sizes its reserve from the file system, creates it once, and gives it up on demand', () => {
    const dir = tempDir();
    let free = 1000 * MiB;
    const budget = new DiskBudget({
      file: path.join(dir, 'buffer.db'), clock: { now: () => 0 }, statfs: () => ({ free, total: 200 * MiB }),
    });
    budget.open();
    expect(budget.reserveBytes).toBe(2 * MiB);
    expect(fs.statSync(budget.reservePath).size).toBe(2 * MiB);
    expect(budget.walPages(4096)).toBe(256);
    expect(budget.releaseReserve()).toBe(true);
    expect(fs.existsSync(budget.reservePath)).toBe(false);
    free = 3 * MiB; // less than twice the reserve: not recreated
    expect(budget.ensureReserve()).toBe(false);
    expect(fs.existsSync(budget.reservePath)).toBe(false);
    free = 100 * MiB;
    expect(budget.ensureReserve()).toBe(true);
    expect(budget.allowance(true)).toBe(98 * MiB);
  });
});
