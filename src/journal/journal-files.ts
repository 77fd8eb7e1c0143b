// The files of one journal on disk, and moving a damaged journal out of the way without
// destroying it: the moved-aside copy keeps its WAL, so `fieldgate buffer export --path` can read
// whatever is still readable.
import fs from 'node:fs';
import { randomInt } from 'node:crypto';

const SIDE_FILES = ['-wal', '-shm'] as const;

/** Renames `file` (and its WAL) to `<file>.corrupt-<time>`; returns the new name. */
export function moveAside(file: string, now: number, label = 'corrupt'): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  let target = `${file}.${label}-${stamp}`;
  for (let n = 2; fs.existsSync(target); n += 1) target = `${file}.${label}-${stamp}-${n}`;
  fs.renameSync(file, target);
  for (const suffix of SIDE_FILES) {
    if (!fs.existsSync(file + suffix)) continue;
    // The WAL index is rebuilt from the WAL; a stale one must not follow the copy around.
    if (suffix === '-shm') fs.rmSync(file + suffix, { force: true });
    else fs.renameSync(file + suffix, target + suffix);
  }
  return target;
}

/** Size of the database file, or undefined when there is none. */
export function fileSizeOrUndefined(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}

/** A readable id for a journal: 12 hex digits. */
export function formatJournalId(id: number): string {
  return id.toString(16).padStart(12, '0');
}

/** A random 48-bit journal id (never 0). */
export function newJournalId(): number {
  return randomInt(1, 2 ** 48 - 1);
}
