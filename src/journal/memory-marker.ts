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

const fileFor = (dir: string, journalId: string): string => path.join(dir, `journal-${journalId}.memory-seq`);

/** Records that seqs up to `ceiling` may have been handed out in memory. Throws if it cannot. */
export function recordMemorySeqs(dir: string, journalId: string, ceiling: number): void {
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(fileFor(dir, journalId), `${JSON.stringify({ journal_id: journalId, seq_ceiling: ceiling })}\n`, 0o640);
}

/** The ceiling recorded for this journal in this boot, if any. */
export function readMemorySeqs(dir: string, journalId: string): number | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(fileFor(dir, journalId), 'utf8')) as { journal_id?: unknown; seq_ceiling?: unknown };
    return v.journal_id === journalId && Number.isSafeInteger(v.seq_ceiling) ? (v.seq_ceiling as number) : undefined;
  } catch {
    return undefined;
  }
}

export function clearMemorySeqs(dir: string, journalId: string): void {
  fs.rmSync(fileFor(dir, journalId), { force: true });
}
