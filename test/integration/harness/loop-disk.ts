// A disk that can lose power: an ext4 file system on a loop device over a sparse image file. The
// image file holds exactly what the kernel has sent to the "disk"; what is still in the page cache
// above it (dirty pages, written back after up to 30 s) is not in it yet. So a copy of the image
// taken while the writers are stopped is the disk as a power cut at that moment leaves it (less a
// card's own write cache, which an fsync flushes, and torn sectors). Needs root.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** Whether this machine lets us make loop devices (root, /dev/loop-control, losetup, mkfs.ext4). */
export function canMakeLoopDisks(): boolean {
  if (process.getuid?.() !== 0 || !fs.existsSync('/dev/loop-control')) return false;
  try {
    sh('losetup', ['--version']);
    sh('mkfs.ext4', ['-V']);
    return true;
  } catch {
    return false;
  }
}

export interface LoopDisk {
  /** Where the file system is mounted. */
  mnt: string;
  /** The disk as a power cut now would leave it, as an image file at `to`. */
  cut(to: string): void;
  /** Bytes written to the disk (the device's own count), what a card would have been sent. */
  bytesWritten(): number;
  /**
   * Fails the file system as a worn SD card does: ext4 meets an error and, mounted
   * `errors=remount-ro` (as Raspberry Pi OS and Debian mount the root), turns read-only at once,
   * open files included, until it is unmounted.
   */
  fail(): void;
  close(): void;
}

/** Makes and mounts the disk in `dir` (disk.img, mnt/). 1 GiB, sparse, so the journal sizes its WAL as on a card. */
export function makeLoopDisk(dir: string, bytes = 1024 ** 3): LoopDisk {
  const image = path.join(dir, 'disk.img');
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt, { recursive: true });
  fs.writeFileSync(image, '');
  fs.truncateSync(image, bytes);
  const dev = sh('losetup', ['-f', '--show', image]);
  try {
    // Inode tables and the ext4 journal written now, not by a kernel thread while we count writes.
    sh('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', dev]);
    sh('mount', [dev, mnt]);
  } catch (err) {
    sh('losetup', ['-d', dev]);
    throw err;
  }
  return {
    mnt,
    cut: (to) => void sh('cp', ['--sparse=always', image, to]),
    // /sys/block/<dev>/stat: the 7th field is sectors written, in units of 512 bytes.
    bytesWritten: () => Number(fs.readFileSync(`/sys/block/${path.basename(dev)}/stat`, 'utf8').trim().split(/\s+/)[6]) * 512,
    fail(): void {
      sh('mount', ['-o', 'remount,errors=remount-ro', mnt]);
      fs.writeFileSync(`/sys/fs/ext4/${path.basename(dev)}/trigger_fs_error`, 'fieldgate test: a failing card');
      const options = sh('findmnt', ['-n', '-o', 'OPTIONS', mnt]).split(',');
      if (!options.includes('ro') && !options.includes('emergency_ro')) throw new Error(`${mnt} did not turn read-only`);
    },
    close(): void {
      try {
        sh('umount', [mnt]);
      } catch {
        // Still in use (a test failed with a file open on it): detached now, freed when closed.
        sh('umount', ['-l', mnt]);
      }
      sh('losetup', ['-d', dev]);
    },
  };
}

/**
 * Mounts a cut image (ext4 replays its own journal, as at the next boot), copies the files whose
 * names start with `prefix` into `into`, and deletes the image. Returns `into`.
 */
export function filesAfterCut(image: string, prefix: string, into: string): string {
  const mnt = `${image}.mnt`;
  fs.mkdirSync(mnt, { recursive: true });
  fs.mkdirSync(into, { recursive: true });
  const dev = sh('losetup', ['-f', '--show', image]);
  try {
    sh('mount', [dev, mnt]);
    try {
      for (const f of fs.readdirSync(mnt)) if (f.startsWith(prefix)) fs.copyFileSync(path.join(mnt, f), path.join(into, f));
    } finally {
      sh('umount', [mnt]);
    }
  } finally {
    sh('losetup', ['-d', dev]);
  }
  fs.rmSync(image);
  fs.rmSync(mnt, { recursive: true, force: true });
  return into;
}

/**
 * Readings in a journal file with a time at or before `until`, and the newest one's time. A cut
 * before the journal's creation reached the disk leaves no file, or one without its tables: none.
 */
export function journalReadings(file: string, until = Number.MAX_SAFE_INTEGER): { rows: number; newest: number } {
  if (!fs.existsSync(file)) return { rows: 0, newest: 0 };
  const db = new Database(file);
  try {
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'entries'").get()) return { rows: 0, newest: 0 };
    const r = db.prepare('SELECT count(*) AS rows, max(ts) AS newest FROM entries WHERE ts <= ?').get(until) as { rows: number; newest: number | null };
    return { rows: r.rows, newest: r.newest ?? 0 };
  } finally {
    db.close();
  }
}
