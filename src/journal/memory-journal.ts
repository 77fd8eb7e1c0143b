// MemoryJournal: the Journal contract kept in a Map, with no durability at all. It is the
// reference model the SQLite journal is checked against, so it is written to be obviously right
// rather than fast: capacity is applied one entry at a time, exactly as the contract reads.
// Content survives close()/open() of the same object (as a file would), never the process.
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { FieldgateError } from '../util/errors.js';
import { DropReporter } from './drop-reporter.js';
import { ExpirySchedule } from './keep-delivered.js';
import type { AppendResult, DropReason, HeldEntry, Journal, JournalEntry, JournalStats, NewEntry, WhenFull } from './journal.js';

export interface MemoryJournalOptions {
  maxMessages: number;
  maxBytes: number;
  whenFull: WhenFull;
  logger: Logger;
  clock: Clock;
  /** buffer.keep_delivered in ms; 0 or absent = delivered rows are deleted (keep-delivered.ts). */
  keepDeliveredMs?: number;
}

interface Stored {
  entry: JournalEntry;
  size: number;
  /** When its delivery was confirmed (keep_delivered); undefined = not yet delivered. */
  deliveredAt?: number;
}

/** The capacity measure: payload bytes plus the topic's UTF-8 bytes. */
function entrySize(topic: string, payload: Buffer): number {
  return payload.length + Buffer.byteLength(topic);
}

export class MemoryJournal implements Journal {
  // Map iteration follows insertion order, and seqs are inserted in increasing order. Holds
  // delivered rows (keep_delivered) too; `bytes` counts all of them, stats() splits.
  private readonly entries = new Map<number, Stored>();
  private bytes = 0;
  private lastSeq = 0;
  private readonly drops: Record<DropReason, number> = { drop_oldest: 0, drop_newest: 0, purge: 0 };
  private opened = false;
  private readonly reporter: DropReporter;
  private readonly expiry: ExpirySchedule;

  constructor(private readonly options: MemoryJournalOptions) {
    this.reporter = new DropReporter(options.logger, options.clock);
    this.expiry = new ExpirySchedule(options.keepDeliveredMs ?? 0);
  }

  open(): void {
    const { maxMessages, maxBytes } = this.options;
    if (!(Number.isInteger(maxMessages) && maxMessages >= 1) || !(maxBytes >= 1)) {
      throw new FieldgateError('journal_config', 'journal capacity must be at least 1 message and 1 byte');
    }
    this.opened = true;
    this.expire(true);
  }

  close(): void {
    if (!this.opened) return;
    this.reporter.flush(true);
    this.opened = false;
  }

  append(entries: NewEntry[]): AppendResult {
    this.check();
    const { maxMessages, maxBytes, whenFull } = this.options;
    const stored: number[] = [];
    const rows: JournalEntry[] = [];
    let refused = 0;
    let evicted = 0;
    for (const e of entries) {
      const pending = this.undelivered();
      if (whenFull === 'drop_newest' && pending.depth + 1 > maxMessages) {
        refused += 1;
        continue;
      }
      const payload = Buffer.from(e.render(this.lastSeq + 1));
      const size = entrySize(e.topic, payload);
      if (size > maxBytes || (whenFull === 'drop_newest' && pending.bytes + size > maxBytes)) {
        refused += 1;
        continue;
      }
      while (this.entries.size + 1 > maxMessages || this.bytes + size > maxBytes) {
        // Delivered rows make room first, and uncounted: nothing undelivered is lost.
        if (this.evictOldest(true)) continue;
        this.evictOldest(false);
        evicted += 1;
      }
      this.lastSeq += 1;
      const entry: JournalEntry = { seq: this.lastSeq, ts: e.ts, topic: e.topic, qos: e.qos, retain: e.retain, encoding: e.encoding, payload };
      this.entries.set(entry.seq, { entry, size });
      this.bytes += size;
      stored.push(entry.seq);
      rows.push(entry);
    }
    this.drops.drop_newest += refused;
    this.drops.drop_oldest += evicted;
    this.reporter.note('drop_newest', refused, 'capacity');
    this.reporter.note('drop_oldest', evicted, 'capacity');
    // As the SQLite journal does: an eviction may have taken rows of this very call.
    return evicted === 0 && rows.length > 0 ? { stored, refused, evicted, rows } : { stored, refused, evicted };
  }

  readAfter(afterSeq: number, limit: number): JournalEntry[] {
    this.check();
    const out: JournalEntry[] = [];
    if (!(limit >= 1)) return out;
    for (const { entry, deliveredAt } of this.entries.values()) {
      if (out.length >= limit) break;
      if (entry.seq > afterSeq && deliveredAt === undefined) out.push(entry);
    }
    return out;
  }

  remove(seqs: readonly number[]): void {
    this.check();
    const now = this.options.clock.now();
    for (const seq of seqs) {
      const found = this.entries.get(seq);
      if (!found || found.deliveredAt !== undefined) continue;
      if (this.expiry.enabled) {
        found.deliveredAt = now;
        continue;
      }
      this.entries.delete(seq);
      this.bytes -= found.size;
    }
    this.expire(false);
  }

  readHeld(afterSeq: number, toSeq: number, limit: number): HeldEntry[] {
    this.check();
    const out: HeldEntry[] = [];
    if (!(limit >= 1)) return out;
    for (const { entry, deliveredAt } of this.entries.values()) {
      if (out.length >= limit || entry.seq > toSeq) break;
      if (entry.seq > afterSeq) out.push({ ...entry, delivered: deliveredAt !== undefined });
    }
    return out;
  }

  stats(): JournalStats {
    this.check();
    this.reporter.flush(false);
    const all = [...this.entries.values()];
    const oldest = all.find((s) => s.deliveredAt === undefined);
    const delivered = all.filter((s) => s.deliveredAt !== undefined);
    const pending = this.undelivered();
    return {
      journalId: 'memory',
      available: true,
      resets: { missing: 0, replaced: 0, corrupt: 0, power_loss: 0 },
      depth: pending.depth,
      bytes: pending.bytes,
      fileBytes: 0,
      oldestSeq: oldest?.entry.seq ?? null,
      oldestTs: oldest?.entry.ts ?? null,
      lastSeq: this.lastSeq,
      drops: { ...this.drops },
      delivered: {
        depth: delivered.length,
        bytes: this.bytes - pending.bytes,
        oldestSeq: delivered[0]?.entry.seq ?? null,
        oldestTs: delivered[0]?.entry.ts ?? null,
      },
    };
  }

  *export(since: number, until: number): Iterable<JournalEntry> {
    this.check();
    // A snapshot, so removes during the iteration do not disturb it (the SQLite journal pages).
    for (const { entry, deliveredAt } of [...this.entries.values()]) {
      if (deliveredAt === undefined && entry.ts >= since && entry.ts < until) yield entry;
    }
  }

  purge(): number {
    this.check();
    const n = this.undelivered().depth;
    this.entries.clear();
    this.bytes = 0;
    this.drops.purge += n;
    this.options.logger.warn({ dropped: { purge: n } }, `journal purged ${n} entries`);
    return n;
  }

  /** Deletes the oldest delivered (or undelivered) row; false if there is none. */
  private evictOldest(delivered: boolean): boolean {
    for (const [seq, s] of this.entries) {
      if ((s.deliveredAt !== undefined) !== delivered) continue;
      this.entries.delete(seq);
      this.bytes -= s.size;
      return true;
    }
    if (!delivered) throw new Error('unreachable: evicting from an empty journal');
    return false;
  }

  private undelivered(): { depth: number; bytes: number } {
    let depth = 0;
    let bytes = 0;
    for (const s of this.entries.values()) {
      if (s.deliveredAt !== undefined) continue;
      depth += 1;
      bytes += s.size;
    }
    return { depth, bytes };
  }

  /** Deletes delivered rows in seq order up to the first one delivered after the cutoff. */
  private expire(force: boolean): void {
    const cutoff = this.expiry.cutoff(this.options.clock.now(), force);
    if (cutoff === undefined) return;
    for (const [seq, s] of [...this.entries]) {
      if (s.deliveredAt === undefined) continue;
      if (s.deliveredAt > cutoff) return;
      this.entries.delete(seq);
      this.bytes -= s.size;
    }
  }

  private check(): void {
    if (!this.opened) throw new FieldgateError('journal_closed', 'journal is not open');
  }
}
