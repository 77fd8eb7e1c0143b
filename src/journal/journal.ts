// The store-and-forward journal seen by the rest of the gateway. It knows topics and bytes, not
// MQTT: the forwarder decides what to publish, the journal only keeps it safe until told to forget.
// Each row carries the encoding its writer gave it, so readers never guess it from the bytes.
import type { RowEncoding } from '../wire/row-encoding.js';

export type { RowEncoding } from '../wire/row-encoding.js';
export type Qos = 0 | 1 | 2;

export interface JournalEntry {
  /** Gateway-wide sequence number: +1 for every entry journaled, never reused, survives restarts. */
  seq: number;
  /** Acquisition time, epoch ms. */
  ts: number;
  topic: string;
  qos: Qos;
  retain: boolean;
  /** How `payload` is encoded, as the mapper rendered it. */
  encoding: RowEncoding;
  payload: Buffer;
}

/** A row as held for replay: delivered (acknowledged, kept by buffer.keep_delivered) or not yet. */
export interface HeldEntry extends JournalEntry {
  delivered: boolean;
}

export interface NewEntry {
  ts: number;
  topic: string;
  qos: Qos;
  retain: boolean;
  /** How the rendered payload is encoded; stored with the row. */
  encoding: RowEncoding;
  /** Builds the stored bytes once the entry's seq is known (payloads carry their own seq). */
  render(seq: number): Buffer;
}

export type DropReason = 'drop_oldest' | 'drop_newest' | 'purge';

/** buffer.when_full: what a full journal gives up. */
export type WhenFull = 'drop_oldest' | 'drop_newest';
/** buffer.synchronous: SQLite's fsync policy. */
export type SyncMode = 'normal' | 'full';

export interface AppendResult {
  /** Seqs assigned to the entries that were stored, in order. */
  stored: number[];
  /** Entries of this call that were refused (drop_newest). */
  refused: number;
  /** Older entries removed to make room (drop_oldest). */
  evicted: number;
  /**
   * The rows this call wrote, as they are now stored, so the forwarder can send them without
   * reading them back: it takes them as part of the append, before any other writer could touch
   * them. Absent when the call evicted rows (some of these may be gone again) or nothing was stored.
   */
  rows?: readonly JournalEntry[];
}

/** Why a journal was started afresh while an older one had existed. */
export type ResetReason = 'missing' | 'replaced' | 'corrupt' | 'power_loss';

export interface JournalStats {
  /** Names this journal; a new id means earlier undelivered rows are gone (seq still rises). */
  journalId: string;
  /** False while the journal cannot be opened (full disk, permissions): readings are refused and counted. */
  available: boolean;
  /**
   * Where the journal is: its file, or memory after the file's storage failed under the running
   * gateway (memory-fallback.ts; not durable). Absent for journals that are only ever one.
   */
  storage?: 'file' | 'memory';
  /** Journals started afresh since this process started, by reason. */
  resets: Record<ResetReason, number>;
  depth: number;
  bytes: number;
  fileBytes: number;
  oldestSeq: number | null;
  oldestTs: number | null;
  lastSeq: number;
  drops: Record<DropReason, number>;
  /**
   * Rows kept after delivery (buffer.keep_delivered), beside the backlog above (depth and bytes
   * count undelivered rows only). They share the capacity and are evicted first, uncounted.
   */
  delivered: DeliveredStats;
}

export interface DeliveredStats {
  depth: number;
  bytes: number;
  oldestSeq: number | null;
  oldestTs: number | null;
}

export interface Journal {
  /** Store entries durably (one transaction) and return once committed. */
  append(entries: NewEntry[]): AppendResult;
  /** Up to `limit` undelivered entries with seq > afterSeq, oldest first. */
  readAfter(afterSeq: number, limit: number): JournalEntry[];
  /**
   * Delivery of these entries was confirmed: they are forgotten, or with keep_delivered kept and
   * marked delivered (readAfter no longer returns them). Unknown or already delivered seqs are ignored.
   */
  remove(seqs: readonly number[]): void;
  /** Up to `limit` entries held, delivered or not, with afterSeq < seq <= toSeq, oldest first. */
  readHeld(afterSeq: number, toSeq: number, limit: number): HeldEntry[];
  stats(): JournalStats;
  /** Undelivered entries with since <= ts < until (epoch ms), oldest first. */
  export(since: number, until: number): Iterable<JournalEntry>;
  /**
   * Delete everything stored, delivered rows too; the undelivered ones are counted as drops of
   * reason 'purge' and their number returned.
   */
  purge(): number;
  close(): void;
}
