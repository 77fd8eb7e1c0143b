// The journal in memory, for when its storage fails under a running gateway: an SD card that has
// worn out and gone read-only (ext4 `errors=remount-ro`), a USB disk pulled out, I/O errors. Until
// then the file was fine, so its undelivered rows can still be read: they are copied into an
// in-memory SQLite database with the same schema, and the journal goes on there with the same
// seqs, the same store code and the same rules, only without durability. Readings keep flowing
// to a working broker, an outage is still bridged (up to buffer.memory_fallback bytes), and only
// a stop or a crash before the storage is repaired loses what memory holds.
//
// seq: the in-memory journal hands out seqs only up to the ceiling of the seq lease on disk (it
// can no longer be extended). After a reboot, the journal file (still marked open: a clean close
// could not be written) continues above that ceiling (power_loss), so no seq is handed out twice.
import Database from 'better-sqlite3';
import type { WhenFull } from './journal.js';
import { hasColumn, migrate } from './journal-schema.js';
import { errorText } from '../util/errors.js';
import { type Counters, emptyCountersAt, withCounts } from './journal-counters.js';
import { type Identity, type Planned, SqliteStore } from './sqlite-store.js';

const COPY_CHUNK = 1_000;

export interface MemoryCapacity {
  maxMessages: number;
  maxBytes: number;
  whenFull: WhenFull;
}

export interface MovedToMemory {
  store: SqliteStore;
  counters: Counters;
  /** Undelivered rows of the file copied into memory. */
  copied: number;
  /** Undelivered rows left in the file: beyond the memory's capacity, or unreadable. */
  left: number;
  /** Why the copy stopped short, if the file could not be read to the end. */
  readError?: string;
}

/**
 * An in-memory journal with `identity` and `c.lastSeq`, holding as many of `from`'s undelivered
 * rows as `cap` allows: the newest under drop_oldest, the oldest under drop_newest (the policy's
 * own choice of what to give up).
 */
export function moveToMemory(from: SqliteStore | undefined, c: Counters, identity: Identity | undefined, cap: MemoryCapacity): MovedToMemory {
  const db = new Database(':memory:');
  db.pragma('auto_vacuum = INCREMENTAL');
  migrate(db);
  const store = new SqliteStore(db, { maxMessages: cap.maxMessages, whenFull: cap.whenFull, keepDelivered: false });
  if (identity) store.setIdentity(identity);
  let counters = withCounts(emptyCountersAt(0), { drops: c.drops, dropsDirty: c.dropsDirty });
  let copied = 0;
  let readError: string | undefined;
  try {
    if (from) {
      for (const rows of undeliveredChunks(from, c, cap)) {
        counters = store.commit({ accepted: rows, refused: 0, maxBytes: cap.maxBytes, extraEvict: 0 }, counters).counters;
        copied += rows.length;
      }
    }
  } catch (err) {
    // A card that fails reads too: what was copied stays, the rest is left in the file.
    readError = errorText(err);
  }
  counters = store.raiseSeq(c.lastSeq, counters);
  const moved: MovedToMemory = { store, counters, copied, left: Math.max(0, c.depth - copied) };
  if (readError !== undefined) moved.readError = readError;
  return moved;
}

/** The undelivered rows to copy, oldest first, in chunks (read as the forwarder reads them). */
function* undeliveredChunks(from: SqliteStore, c: Counters, cap: MemoryCapacity): Generator<Planned[]> {
  const db = from.db;
  const undelivered = hasColumn(db, 'entries', 'delivered_at') ? 'delivered_at IS NULL' : '1';
  let after = 0;
  if (cap.whenFull === 'drop_oldest') {
    // Start where the newest rows that fit begin.
    let n = 0;
    let bytes = 0;
    for (const r of db.prepare(`SELECT seq, size FROM entries WHERE ${undelivered} ORDER BY seq DESC`).iterate() as Iterable<{ seq: number; size: number }>) {
      if (n + 1 > cap.maxMessages || bytes + r.size > cap.maxBytes) break;
      n += 1;
      bytes += r.size;
      after = r.seq;
    }
    if (n === 0) return;
    after -= 1;
  }
  let n = 0;
  let bytes = 0;
  for (;;) {
    const rows = from.readAfter(after, COPY_CHUNK, c);
    const chunk: Planned[] = [];
    for (const r of rows) {
      // The journal's capacity measure, as the row's size column holds it.
      const size = r.payload.length + Buffer.byteLength(r.topic);
      if (n + 1 > cap.maxMessages || bytes + size > cap.maxBytes) break;
      n += 1;
      bytes += size;
      chunk.push({ ...r, size });
    }
    if (chunk.length > 0) yield chunk;
    if (chunk.length < rows.length || rows.length < COPY_CHUNK) return;
    after = rows[rows.length - 1]!.seq;
  }
}
