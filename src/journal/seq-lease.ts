// SeqLease: the journal's promise that seq never goes backwards, kept outside the journal file.
//
// Consumers drop rows whose seq they have already seen. If the journal file is deleted, truncated,
// replaced or moved aside as corrupt, a new journal starting again at seq 1 would have its rows
// dropped as duplicates. So the journal leases ranges of seq ahead of use and records the end of
// the lease (the ceiling) in a small file beside it: a hidden name, so `rm buffer.db*` leaves it.
// A journal that finds itself new (or foreign) while a lease exists starts above that ceiling.
//
// The ceiling is written before any seq above the previous one is handed out (write to a
// temporary file, fsync, rename, fsync the directory), once per LEASE_SIZE seqs, so it costs one
// small synchronous write every million rows. It is extended while at least half a lease is still
// left, so that at any moment at least LEASE_SIZE / 2 seqs are covered beyond the last one: a
// journal whose storage fails goes on in memory only within the lease (memory-fallback.ts), and
// this is how long it can. The price is the gap after a lost journal or a power cut: up to
// 1.5 × LEASE_SIZE numbers never used. If the lease cannot be written (a full disk) the journal
// goes on and says so: the journal file itself still holds the last seq, and only the double
// fault of a full disk and a lost journal could then reuse a seq.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';

export const LEASE_SIZE = 1_000_000;
// A failed write is tried again after this many more seqs (while still under the ceiling), not at
// every append.
const RETRY_AFTER_SEQS = 1_000;

export interface LeaseRecord {
  /** Id of the journal that holds the lease. */
  journalId: string;
  /** No seq above this was ever handed out by that journal. */
  ceiling: number;
}

export type LeaseRead =
  | { state: 'absent' }
  | { state: 'ok'; record: LeaseRecord }
  | { state: 'unreadable'; reason: string };

/** `/var/lib/fieldgate/buffer.db` → `/var/lib/fieldgate/.buffer.db.seq`. */
export function leasePathFor(journalFile: string): string {
  return path.join(path.dirname(journalFile), `.${path.basename(journalFile)}.seq`);
}

export class SeqLease {
  private record: LeaseRecord | undefined;
  private failedAtSeq: number | undefined;

  constructor(private readonly file: string) {}

  read(): LeaseRead {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
      return { state: 'unreadable', reason: (err as Error).message };
    }
    const parsed = parseLease(text);
    if (!parsed) return { state: 'unreadable', reason: 'not a fieldgate seq lease' };
    this.record = parsed;
    return { state: 'ok', record: parsed };
  }

  /** The ceiling currently on disk (as far as this process knows), 0 if none. */
  get ceiling(): number {
    return this.record?.ceiling ?? 0;
  }

  /**
   * Makes sure `seq` is covered by the lease of `journalId`, extending it by LEASE_SIZE when needed.
   * Returns false when the lease could not be written (the caller logs; seqs still work).
   */
  cover(journalId: string, seq: number): boolean {
    const current = this.record;
    const ours = current !== undefined && current.journalId === journalId;
    if (ours && seq <= current.ceiling - LEASE_SIZE / 2) return true;
    // Still covered, only due for renewal: a write that failed is not tried at every append.
    if (ours && seq <= current.ceiling && this.failedAtSeq !== undefined && seq - this.failedAtSeq < RETRY_AFTER_SEQS) return true;
    const next: LeaseRecord = { journalId, ceiling: Math.max(seq, current?.ceiling ?? 0) + LEASE_SIZE };
    try {
      writeFileAtomic(this.file, leaseText(next), 0o640);
    } catch {
      this.failedAtSeq = seq;
      return ours && seq <= current.ceiling;
    }
    this.failedAtSeq = undefined;
    this.record = next;
    return true;
  }
}

/** A lease record as its file holds it (memory-marker.ts writes the same). */
export function leaseText(record: LeaseRecord): string {
  return `${JSON.stringify({ journal_id: record.journalId, seq_ceiling: record.ceiling })}\n`;
}

export function parseLease(text: string): LeaseRecord | undefined {
  try {
    const v = JSON.parse(text) as { journal_id?: unknown; seq_ceiling?: unknown };
    if (typeof v.journal_id !== 'string' || !Number.isSafeInteger(v.seq_ceiling) || (v.seq_ceiling as number) < 0) return undefined;
    return { journalId: v.journal_id, ceiling: v.seq_ceiling as number };
  } catch {
    return undefined;
  }
}
