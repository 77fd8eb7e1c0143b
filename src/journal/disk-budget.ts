// DiskBudget: how much room the journal may still take on its file system, and a reserve that
// gets it out of a disk that filled up anyway.
//
// Why: in WAL mode even a DELETE needs room (new WAL frames), and a checkpoint needs room when the
// WAL holds pages beyond the end of the database file. A journal that lets the disk fill up can
// then neither evict nor checkpoint, and every new reading is lost. Two rules prevent that:
// - Headroom. The journal keeps `minFree` bytes free on its file system: once free space drops
//   below that, the database file stops growing and new rows go into pages freed by evicting the
//   oldest ones (capacity policy as usual: drop_oldest evicts, drop_newest refuses). The WAL is
//   checkpointed often enough (walPages) that it always fits in the reserve.
// - Reserve. A file of `reserveBytes` zeros beside the journal. When something else fills the
//   disk and SQLite reports SQLITE_FULL anyway, the journal deletes the reserve, which gives the
//   checkpoint and the eviction the room they need; it is recreated once space is back.
// Both scale with the file system: 1/100 of its size, between 256 KiB and 8 MiB each.
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../driver-api/index.js';

export interface FsSpace {
  /** Bytes an unprivileged process may still write. */
  free: number;
  /** Size of the file system. */
  total: number;
}

export type StatFs = (dir: string) => FsSpace;

export interface DiskBudgetOptions {
  /** The journal's database file. */
  file: string;
  clock: Clock;
  /** Replaces statfs (tests). */
  statfs?: StatFs;
  /** Overrides the computed reserve and headroom (tests, tiny file systems). */
  reserveBytes?: number;
  /** How long a free-space reading stays good. */
  sampleMs?: number;
}

const MIN_SLACK = 256 * 1024;
const MAX_SLACK = 8 * 1024 * 1024;
const CHUNK = 64 * 1024;

export const systemStatFs: StatFs = (dir) => {
  const s = fs.statfsSync(dir);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
};

/** `/var/lib/fieldgate/buffer.db` → `/var/lib/fieldgate/.buffer.db.reserve`. */
export function reservePathFor(journalFile: string): string {
  return path.join(path.dirname(journalFile), `.${path.basename(journalFile)}.reserve`);
}

export class DiskBudget {
  readonly reservePath: string;
  private slack = MIN_SLACK;
  private sampledAt = Number.NEGATIVE_INFINITY;
  private free = Number.POSITIVE_INFINITY;
  private readonly statfs: StatFs;

  constructor(private readonly options: DiskBudgetOptions) {
    this.reservePath = reservePathFor(options.file);
    this.statfs = options.statfs ?? systemStatFs;
  }

  /** Sizes the reserve and headroom from the file system and creates the reserve if there is room. */
  open(): void {
    const space = this.sample(true);
    this.slack = this.options.reserveBytes ?? clamp(Math.floor(space.total / 100), MIN_SLACK, MAX_SLACK);
    this.ensureReserve();
  }

  /** Bytes kept free on the file system besides the reserve. */
  get minFree(): number {
    return this.slack;
  }

  get reserveBytes(): number {
    return this.slack;
  }

  /** WAL pages between automatic checkpoints: half the reserve, at most SQLite's default. */
  walPages(pageSize: number): number {
    return clamp(Math.floor(this.slack / 2 / pageSize), 16, 1000);
  }

  /**
   * Bytes the journal's files may still grow by before free space falls under minFree; negative
   * when it already has. Re-read from the file system at most every sampleMs unless forced.
   */
  allowance(force = false): number {
    return this.sample(force).free - this.slack;
  }

  get hasReserve(): boolean {
    try {
      return fs.statSync(this.reservePath).size >= this.slack;
    } catch {
      return false;
    }
  }

  /** Creates the reserve when it is missing and the disk has room for it; never throws. */
  ensureReserve(): boolean {
    if (this.hasReserve) return true;
    if (this.sample(true).free < 2 * this.slack) return false;
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.reservePath, 'w', 0o600);
      const zeros = Buffer.alloc(Math.min(CHUNK, this.slack));
      for (let written = 0; written < this.slack; written += zeros.length) {
        fs.writeSync(fd, zeros, 0, Math.min(zeros.length, this.slack - written));
      }
      return true;
    } catch {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
      fs.rmSync(this.reservePath, { force: true });
      return false;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
      this.sampledAt = Number.NEGATIVE_INFINITY;
    }
  }

  /** Deletes the reserve to give SQLite room; true if there was one. */
  releaseReserve(): boolean {
    const had = fs.existsSync(this.reservePath);
    fs.rmSync(this.reservePath, { force: true });
    this.sampledAt = Number.NEGATIVE_INFINITY;
    return had;
  }

  private sample(force: boolean): FsSpace {
    const now = this.options.clock.now();
    if (force || now - this.sampledAt >= (this.options.sampleMs ?? 500)) {
      try {
        const s = this.statfs(path.dirname(this.options.file));
        this.free = s.free;
        this.sampledAt = now;
        return s;
      } catch {
        // No statfs (an exotic file system): behave as if space were plentiful, as before.
        this.free = Number.POSITIVE_INFINITY;
        return { free: this.free, total: 0 };
      }
    }
    return { free: this.free, total: 0 };
  }
}

export interface CapacityInput {
  /** Logical bytes journaled now (payload + topic). */
  bytes: number;
  /** buffer.max_bytes. */
  maxBytes: number;
  /** DiskBudget.allowance(): bytes the files may still grow by (negative when over). */
  allowance: number;
  minFree: number;
  /** Free and used bytes of the database's pages; only asked for when the disk may limit. */
  pages: () => { free: number; used: number };
}

/**
 * max_bytes, or less when the file system is short of room: the journal may then only grow into
 * its free pages and into what free space is left above the headroom (both converted from page
 * bytes to logical bytes by the journal's own ratio). Under that cap drop_oldest evicts a little
 * more than an append needs (extraEvict), so that whole pages come free for the next rows.
 */
export function capacityForDisk(input: CapacityInput): { maxBytes: number; extraEvict: number } {
  const { bytes, maxBytes, allowance, minFree } = input;
  // Plenty of room for everything max_bytes still allows (pages cost up to about twice the bytes).
  if (allowance >= 2 * (maxBytes - bytes) + minFree) return { maxBytes, extraEvict: 0 };
  const pages = input.pages();
  const ratio = clamp(bytes / Math.max(1, pages.used), 0.2, 1);
  const cap = Math.min(maxBytes, bytes + Math.floor(ratio * (pages.free + Math.max(0, allowance))));
  if (cap >= maxBytes) return { maxBytes, extraEvict: 0 };
  return { maxBytes: cap, extraEvict: Math.max(64 * 1024, Math.ceil(bytes / 100)) };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
