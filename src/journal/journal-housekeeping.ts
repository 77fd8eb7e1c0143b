// The journal's housekeeping once rows have left the file: deleting delivered rows past
// buffer.keep_delivered (rules in keep-delivered.ts; at every open, then when due from remove()),
// and returning the pages freed by removes to the file system, a few at a time once the free list
// is large and all at once after a purge (auto_vacuum=INCREMENTAL; design rules at the top of
// sqlite-journal.ts). A failure of either is logged, never thrown.
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { errorText } from '../util/errors.js';
import type { SqliteStore } from './sqlite-store.js';
import type { Counters } from './journal-counters.js';
import { ExpirySchedule } from './keep-delivered.js';
import type { JournalSpace } from './journal-space.js';

// Free-list housekeeping: look after this many removed rows; reclaim while the free list is over
// both thresholds, RECLAIM_STEP_PAGES per remove call so no single call stalls the forwarder.
const RECLAIM_CHECK_ROWS = 4_096;
const RECLAIM_MIN_FREE_PAGES = 1_024;
const RECLAIM_STEP_PAGES = 256;

export interface JournalHousekeepingOptions {
  /** buffer.keep_delivered in ms; 0 = delivered rows are deleted. */
  keepDeliveredMs: number;
  /** Free pages are kept for reuse while the disk, not max_bytes, limits the journal. */
  space: JournalSpace;
  logger: Logger;
  clock: Clock;
}

export class JournalHousekeeping {
  private removedSinceReclaim = 0;
  private readonly expiry: ExpirySchedule;

  constructor(private readonly options: JournalHousekeepingOptions) {
    this.expiry = new ExpirySchedule(options.keepDeliveredMs);
  }

  /** buffer.keep_delivered is set. */
  get keepsDelivered(): boolean {
    return this.expiry.enabled;
  }

  /** The file was (re)opened or reloaded: removed rows are counted afresh. */
  restart(): void {
    this.removedSinceReclaim = 0;
  }

  /**
   * Deletes delivered rows past keep_delivered when a run is due (at open: always). Returns the
   * counters the transaction left, or `c` as it was when nothing ran or it failed.
   */
  expire(store: SqliteStore, c: Counters, force: boolean): Counters {
    const cutoff = this.expiry.cutoff(this.options.clock.now(), force);
    if (cutoff === undefined || c.deliveredDepth === 0) return c;
    try {
      const done = store.expire(cutoff, c);
      this.removedSinceReclaim += done.freed ?? 0;
      return done.counters;
    } catch (err) {
      // They are tried again at the next run; meanwhile they only take room delivered rows give up anyway.
      this.options.logger.warn({ err: errorText(err) }, 'journal could not expire delivered rows');
      return c;
    }
  }

  /** After a remove that deleted `deleted` rows: expiry when due, then reclaim when enough went. */
  afterRemove(store: SqliteStore, deleted: number, c: Counters): Counters {
    this.removedSinceReclaim += deleted;
    const after = this.expire(store, c, false);
    if (this.removedSinceReclaim >= RECLAIM_CHECK_ROWS) this.reclaim(store);
    return after;
  }

  /** A purge emptied the journal: give the whole free list back and truncate the WAL. */
  afterPurge(store: SqliteStore): void {
    this.removedSinceReclaim = 0;
    try {
      store.db.pragma('incremental_vacuum');
      store.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.options.logger.warn({ err }, 'journal could not shrink its file after purge');
    }
  }

  private reclaim(store: SqliteStore): void {
    try {
      const free = Number(store.db.pragma('freelist_count', { simple: true }));
      const pages = Number(store.db.pragma('page_count', { simple: true }));
      // Below a quarter of the file, free pages are left for the next appends to reuse.
      if (free >= RECLAIM_MIN_FREE_PAGES && free * 4 >= pages && !this.options.space.limited) {
        store.db.pragma(`incremental_vacuum(${RECLAIM_STEP_PAGES})`);
        return; // keep stepping on the next removes until the free list is small
      }
      this.removedSinceReclaim = 0;
    } catch (err) {
      this.removedSinceReclaim = 0;
      this.options.logger.warn({ err }, 'journal could not reclaim free pages');
    }
  }
}
