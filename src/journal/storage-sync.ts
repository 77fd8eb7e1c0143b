// StorageSync: with synchronous=normal, SQLite makes commits durable only at a checkpoint (every
// few hundred WAL pages); until then the WAL's new frames sit in the operating system's page
// cache, which Linux writes back after up to 30 s (vm.dirty_expire_centisecs), or later still for
// a file's first blocks. A power cut in that time takes the journal back by as much: during an
// outage, every reading of the last half minute (bench/power-cut.bench.ts measured 8–34 s, and a
// new journal's very table). StorageSync bounds that window: at most `intervalMs` after a commit it
// flushes the journal's files to storage (fdatasync of the WAL and of the database file, which
// costs nothing when clean), in libuv's thread pool so the event loop never waits for the card.
// The first flush after an open also syncs the directory, so that a new journal's files exist
// after the cut, not only their contents.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { errorText } from '../util/errors.js';

export interface StorageSyncOptions {
  /** The journal file; its `-wal` beside it is flushed too. */
  file: string;
  /** Longest a commit stays in the page cache before it is flushed, in ms. */
  intervalMs: number;
  logger: Logger;
}

export class StorageSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private dirSynced = false;
  private failing = false;
  private stopped = false;
  private readonly onDue = (): void => {
    this.timer = undefined;
    void this.flush();
  };

  constructor(private readonly options: StorageSyncOptions) {}

  /** A transaction was committed: make sure a flush follows within the interval. */
  committed(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(this.onDue, this.options.intervalMs);
    // A process that is done need not wait for it: closing the journal checkpoints, which syncs.
    this.timer.unref();
  }

  /** Flushes now (after any flush already running); resolves when the files are on storage. */
  flush(): Promise<void> {
    this.running = this.running.then(() => this.flushOnce());
    return this.running;
  }

  /** The journal was closed (its close checkpoint synced everything) or is being reopened. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopped = true;
  }

  /** Opened again: a new file may have been made, so the directory is synced again too. */
  restart(): void {
    this.stopped = false;
    this.dirSynced = false;
  }

  private async flushOnce(): Promise<void> {
    const { file } = this.options;
    try {
      for (const target of flushTargets(file)) {
        if (target.what === 'all' && this.dirSynced) continue;
        await syncFile(target);
      }
      this.dirSynced = true;
      if (this.failing) this.options.logger.info({ path: file }, 'journal files flushed to storage again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        this.options.logger.warn({ path: file, err: errorText(err) }, 'cannot flush the journal to storage; a power cut may lose its last commits');
      }
      this.failing = true;
    }
  }
}

interface FlushTarget {
  path: string;
  /** fdatasync a file's data, or fsync a directory (a new file's name in it). */
  what: 'data' | 'all';
}

/** What a flush syncs: the WAL, the database file, and their directory. */
function flushTargets(file: string): FlushTarget[] {
  return [{ path: `${file}-wal`, what: 'data' }, { path: file, what: 'data' }, { path: path.dirname(file), what: 'all' }];
}

/** Syncs one target; one that does not exist (yet) is skipped. */
async function syncFile({ path: p, what }: FlushTarget): Promise<void> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(p, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    if (what === 'data') await handle.datasync();
    else await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The same flush, done synchronously: for moments that must be durable before going on. */
export function syncJournalFilesNow(file: string): void {
  for (const { path: p, what } of flushTargets(file)) {
    let fd: number;
    try {
      fd = fs.openSync(p, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    try {
      if (what === 'data') fs.fdatasyncSync(fd);
      else fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}
