// Which journal rows were stamped by an unsynchronized clock, and how to correct them. Instead of
// a monotonic time in every row (a write on the append path for every reading), the gateway
// records segments: while the clock is unsynchronized, wall − monotonic is constant between
// jumps, so one segment {boot, offset, seqs from..to} gives every row in it its monotonic time
// (ts − offset) and its boot. When the clock later jumps or is synchronized within the same boot,
// the measured change is added to the segment's `correction`; a segment is `final` once the
// clock was synchronized after it. Rows of a non-final segment of an earlier boot can never be
// corrected: they are published flagged `"clock":"unsynced"`.
//
// Kept in a small JSON file beside the journal (`.buffer.db.clock`), rewritten (atomically) only
// when a segment opens or closes, so a synchronized gateway writes it never.
import fs from 'node:fs';
import { writeFileAtomic } from '../util/atomic-file.js';
import path from 'node:path';

export interface ClockSegment {
  boot: string;
  /** wall − monotonic (ms) while the segment's rows were stamped. */
  offset: number;
  fromSeq: number;
  /** Last seq stamped in it; absent while it is open. */
  toSeq?: number;
  /** ms to add to the rows' ts (jumps and the sync measured since, in the same boot). */
  correction: number;
  /** The clock was synchronized after this segment: the correction is complete. */
  final: boolean;
}

export function clockFileFor(journalFile: string): string {
  return path.join(path.dirname(journalFile), `.${path.basename(journalFile)}.clock`);
}

export class ClockSegmentFile {
  constructor(readonly file: string) {}

  read(): ClockSegment[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = JSON.parse(text) as { segments?: unknown };
      return Array.isArray(parsed.segments) ? parsed.segments.filter(isSegment) : [];
    } catch {
      return [];
    }
  }

  write(segments: readonly ClockSegment[]): void {
    if (segments.length === 0) {
      fs.rmSync(this.file, { force: true });
      return;
    }
    writeFileAtomic(this.file, JSON.stringify({ version: 1, segments }));
  }
}

function isSegment(v: unknown): v is ClockSegment {
  const s = v as ClockSegment;
  return typeof v === 'object' && v !== null && typeof s.boot === 'string' && Number.isFinite(s.offset) &&
    Number.isSafeInteger(s.fromSeq) && (s.toSeq === undefined || Number.isSafeInteger(s.toSeq)) &&
    Number.isFinite(s.correction) && typeof s.final === 'boolean';
}

/** The segment holding `seq`, in a list sorted by fromSeq (short: one per clock event). */
export function segmentOf(segments: readonly ClockSegment[], seq: number): ClockSegment | undefined {
  for (let i = segments.length - 1; i >= 0; i -= 1) {
    const s = segments[i]!;
    if (seq >= s.fromSeq) return s.toSeq === undefined || seq <= s.toSeq ? s : undefined;
  }
  return undefined;
}
