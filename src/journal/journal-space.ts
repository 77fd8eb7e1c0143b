// The journal's side of a short disk: when the file system limits the byte capacity (logged once
// as it starts and once as it ends), keeping the reserve file in place, and giving it up when
// SQLite reports the disk full. The rule itself is capacityForDisk (disk-budget.ts).
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { type DiskBudget, capacityForDisk } from './disk-budget.js';

const RESERVE_CHECK_MS = 10_000;

export interface JournalSpaceOptions {
  budget: DiskBudget;
  path: string;
  maxBytes: number;
  logger: Logger;
  clock: Clock;
}

export class JournalSpace {
  private capped = false;
  private lastReserveCheck = 0;

  constructor(private readonly options: JournalSpaceOptions) {}

  /** True while the disk, not max_bytes, limits the journal. */
  get limited(): boolean {
    return this.capped;
  }

  /** The byte capacity for the next append. */
  capacity(bytes: number, pages: () => { free: number; used: number }): { maxBytes: number; extraEvict: number } {
    const { budget, maxBytes, logger, path } = this.options;
    const allowance = budget.allowance();
    const cap = capacityForDisk({ bytes, maxBytes, allowance, minFree: budget.minFree, pages });
    const capped = cap.maxBytes < maxBytes;
    if (capped !== this.capped) {
      this.capped = capped;
      if (capped) {
        logger.warn(
          { path, capBytes: cap.maxBytes, maxBytes, freeBytes: allowance + budget.minFree },
          'disk is short of room: the journal stops growing and makes room by its capacity policy',
        );
      } else {
        logger.info({ path }, 'disk has room again: the journal may grow to max_bytes');
      }
    }
    return cap;
  }

  /** Recreates a missing reserve when the disk has room again; at most every 10 s. */
  maintainReserve(): void {
    const now = this.options.clock.now();
    if (now - this.lastReserveCheck < RESERVE_CHECK_MS) return;
    this.lastReserveCheck = now;
    this.options.budget.ensureReserve();
  }

  /** SQLITE_FULL: give up the reserve, so the checkpoint and the eviction have room to run. */
  releaseReserve(): void {
    if (this.options.budget.releaseReserve()) {
      this.options.logger.warn({ path: this.options.path }, 'disk full: gave up the journal\'s disk reserve to make room');
    }
  }
}
