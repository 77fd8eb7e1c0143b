// The journal's in-memory counters, and the only ways to make a changed copy of them. Every
// transaction returns new counters (sqlite-store.ts), so a copy is made on every append. Made by
// object spread (`{ ...c, depth }`), the copies' hidden classes drifted apart and the stores into
// them went megamorphic: V8's IC log showed a runtime miss for each changed field on every append.
// Built here, field by field in one order, every Counters object has the same shape.
import type { DropReason } from './journal.js';

export type DropCounts = Record<DropReason, number>;

export interface Counters {
  /** Undelivered rows and their bytes. */
  depth: number;
  bytes: number;
  /** Rows kept after delivery (keep_delivered) and their bytes; they share the capacity. */
  deliveredDepth: number;
  deliveredBytes: number;
  /** No undelivered row has a lower seq: where reads of the backlog start among delivered rows. */
  undeliveredFrom: number;
  lastSeq: number;
  /** meta.last_seq on disk; the last seq is max(meta.last_seq, max(entries.seq)). */
  persistedSeq: number;
  drops: DropCounts;
  /** Drops counted while the disk was too full to record them. */
  dropsDirty: boolean;
}

/** `c` with the fields given in `changes` replaced. */
export function withCounts(c: Counters, changes: Partial<Counters>): Counters {
  return {
    depth: changes.depth ?? c.depth,
    bytes: changes.bytes ?? c.bytes,
    deliveredDepth: changes.deliveredDepth ?? c.deliveredDepth,
    deliveredBytes: changes.deliveredBytes ?? c.deliveredBytes,
    undeliveredFrom: changes.undeliveredFrom ?? c.undeliveredFrom,
    lastSeq: changes.lastSeq ?? c.lastSeq,
    persistedSeq: changes.persistedSeq ?? c.persistedSeq,
    drops: changes.drops ?? c.drops,
    dropsDirty: changes.dropsDirty ?? c.dropsDirty,
  };
}

/** `drops` with the counts given in `added` added. */
export function addDrops(drops: DropCounts, added: Partial<DropCounts>): DropCounts {
  return {
    drop_oldest: drops.drop_oldest + (added.drop_oldest ?? 0),
    drop_newest: drops.drop_newest + (added.drop_newest ?? 0),
    purge: drops.purge + (added.purge ?? 0),
  };
}

/** An empty journal whose last seq is `lastSeq`. */
export function emptyCountersAt(lastSeq: number): Counters {
  return {
    depth: 0, bytes: 0, deliveredDepth: 0, deliveredBytes: 0, undeliveredFrom: lastSeq + 1, lastSeq, persistedSeq: lastSeq,
    drops: { drop_oldest: 0, drop_newest: 0, purge: 0 }, dropsDirty: false,
  };
}
