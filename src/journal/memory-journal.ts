// MemoryJournal: the Journal contract kept in a Map, with no durability at all. It is the
// reference model the SQLite journal is checked against, so it is written to be obviously right
// rather than fast: capacity is applied one entry at a time, exactly as the contract reads.
// Content survives close()/open() of the same object (as a file would), never the process.
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { FieldgateError } from '../util/errors.js';
import { DropReporter } from './drop-reporter.js';
import type { AppendResult, DropReason, Journal, JournalEntry, JournalStats, NewEntry, WhenFull } from './journal.js';

export interface MemoryJournalOptions {
  maxMessages: number;
  maxBytes: number;
  whenFull: WhenFull;
  logger: Logger;
  clock: Clock;
}

interface Stored {
  entry: JournalEntry;
  size: number;
}

/** The capacity measure: payload bytes plus the topic's UTF-8 bytes. */
function entrySize(topic: string, payload: Buffer): number {
  return payload.length + Buffer.byteLength(topic);
}

export class MemoryJournal implements Journal {
  // Map iteration follows insertion order, and seqs are inserted in increasing order.
  private readonly entries = new Map<number, Stored>();
  private bytes = 0;
  private lastSeq = 0;
  private readonly drops: Record<DropReason, number> = { drop_oldest: 0, drop_newest: 0, purge: 0 };
  private opened = false;
  private readonly reporter: DropReporter;

  constructor(private readonly options: MemoryJournalOptions) {
    this.reporter = new DropReporter(options.logger, options.clock);
  }

  open(): void {
    const { maxMessages, maxBytes } = this.options;
    if (!(Number.isInteger(maxMessages) && maxMessages >= 1) || !(maxBytes >= 1)) {
      throw new FieldgateError('journal_config', 'journal capacity must be at least 1 message and 1 byte');
    }
    this.opened = true;
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
    let refused = 0;
    let evicted = 0;
    for (const e of entries) {
      if (whenFull === 'drop_newest' && this.entries.size + 1 > maxMessages) {
        refused += 1;
        continue;
      }
      const payload = Buffer.from(e.render(this.lastSeq + 1));
      const size = entrySize(e.topic, payload);
      if (size > maxBytes || (whenFull === 'drop_newest' && this.bytes + size > maxBytes)) {
        refused += 1;
        continue;
      }
      while (this.entries.size + 1 > maxMessages || this.bytes + size > maxBytes) {
        this.evictOldest();
        evicted += 1;
      }
      this.lastSeq += 1;
      const entry: JournalEntry = { seq: this.lastSeq, ts: e.ts, topic: e.topic, qos: e.qos, retain: e.retain, encoding: e.encoding, payload };
      this.entries.set(entry.seq, { entry, size });
      this.bytes += size;
      stored.push(entry.seq);
    }
    this.drops.drop_newest += refused;
    this.drops.drop_oldest += evicted;
    this.reporter.note('drop_newest', refused, 'capacity');
    this.reporter.note('drop_oldest', evicted, 'capacity');
    return { stored, refused, evicted };
  }

  readAfter(afterSeq: number, limit: number): JournalEntry[] {
    this.check();
    const out: JournalEntry[] = [];
    if (!(limit >= 1)) return out;
    for (const { entry } of this.entries.values()) {
      if (out.length >= limit) break;
      if (entry.seq > afterSeq) out.push(entry);
    }
    return out;
  }

  remove(seqs: readonly number[]): void {
    this.check();
    for (const seq of seqs) {
      const found = this.entries.get(seq);
      if (!found) continue;
      this.entries.delete(seq);
      this.bytes -= found.size;
    }
  }

  stats(): JournalStats {
    this.check();
    this.reporter.flush(false);
    const oldest = this.entries.values().next();
    return {
      journalId: 'memory',
      available: true,
      resets: { missing: 0, replaced: 0, corrupt: 0 },
      depth: this.entries.size,
      bytes: this.bytes,
      fileBytes: 0,
      oldestSeq: oldest.done ? null : oldest.value.entry.seq,
      oldestTs: oldest.done ? null : oldest.value.entry.ts,
      lastSeq: this.lastSeq,
      drops: { ...this.drops },
    };
  }

  *export(since: number, until: number): Iterable<JournalEntry> {
    this.check();
    // A snapshot, so removes during the iteration do not disturb it (the SQLite journal pages).
    for (const { entry } of [...this.entries.values()]) {
      if (entry.ts >= since && entry.ts < until) yield entry;
    }
  }

  purge(): number {
    this.check();
    const n = this.entries.size;
    this.entries.clear();
    this.bytes = 0;
    this.drops.purge += n;
    this.options.logger.warn({ dropped: { purge: n } }, `journal purged ${n} entries`);
    return n;
  }

  private evictOldest(): void {
    const first = this.entries.entries().next();
    if (first.done) throw new Error('unreachable: evicting from an empty journal');
    const [seq, { size }] = first.value;
    this.entries.delete(seq);
    this.bytes -= size;
  }

  private check(): void {
    if (!this.opened) throw new FieldgateError('journal_closed', 'journal is not open');
  }
}
