// What a journal in memory (memory-fallback.ts) leaves for the next run in the same boot: the
// highest seq it may hand out. Its own storage has failed, so this goes to the service's runtime
// directory (systemd's RuntimeDirectory=, a tmpfs kept across restarts and emptied at boot). A
// later run that opens the repaired journal file finds the file's last seq behind what the run in
// memory handed out, and continues above the marker instead, so no seq is handed out twice.
// After a reboot the marker is gone, and the journal, never marked closed, continues above its
// lease anyway (power_loss, boot-marker.ts).
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { leaseText, parseLease } from './seq-lease.js';

const fileFor = (dir: string, journalId: string): string => path.join(dir, `journal-${journalId}.memory-seq`);

/** Records that seqs up to `ceiling` may have been handed out in memory. Throws if it cannot. */
export function recordMemorySeqs(dir: string, journalId: string, ceiling: number): void {
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(fileFor(dir, journalId), leaseText({ journalId, ceiling }), 0o640);
}

/** The ceiling recorded for this journal in this boot, if any. */
export function readMemorySeqs(dir: string, journalId: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(fileFor(dir, journalId), 'utf8');
  } catch {
    return undefined;
  }
  const record = parseLease(text);
  return record?.journalId === journalId ? record.ceiling : undefined;
}

export function clearMemorySeqs(dir: string, journalId: string): void {
  fs.rmSync(fileFor(dir, journalId), { force: true });
}
