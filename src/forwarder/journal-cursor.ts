// The forwarder's read position in the journal: reads the rows after it a chunk at a time, plans
// each chunk into publishes (packing it when it is a backlog, packer.ts) and hands them out in
// order. rewind() goes back to the start: the next read returns the oldest row still journaled,
// which after a connection loss is the oldest one not yet acknowledged.
import type { Journal, JournalEntry } from '../journal/journal.js';
import { CborCodec } from '../wire/cbor-codec.js';
import { planPublishes, singlePublish, type PackLimits, type PlannedPublish } from './packer.js';

export interface PackOptions {
  /** Most rows per pack (buffer.max_pack). */
  maxRows: number;
  /** Largest pack payload in bytes (buffer.max_pack_bytes); the broker's Maximum Packet Size also applies. */
  maxBytes: number;
}

export interface JournalCursorOptions {
  journal: Journal;
  /** The forwarder's window: a chunk holding more rows than this is a backlog. */
  inflight: number;
  /** Pack rows of the same topic while a backlog drains; absent = never. */
  pack?: PackOptions;
  /** The broker's Maximum Packet Size on the current connection, if it set one. */
  maxPacketSize(): number | undefined;
  /** Rewrites rows' times before they are planned (clock-guard.ts); may hold back a tail. */
  restamp?: (rows: JournalEntry[]) => JournalEntry[];
}

// Room for the fixed header, topic length, packet id and MQTT 5 properties of a pack's PUBLISH.
const PUBLISH_OVERHEAD = 64;
// Rows read per chunk while packing are bounded by memory: about this many payload bytes.
const PACK_CHUNK_BYTES = 4 * 1024 * 1024;

export class JournalCursor {
  /** Highest seq read from the journal; the next read starts after it. */
  private after = 0;
  private planned: PlannedPublish[] = [];
  private next = 0;
  private avgRowBytes = 256;
  private readonly cbor = new CborCodec();
  private readonly limits: PackLimits | undefined;

  constructor(private readonly options: JournalCursorOptions) {
    const pack = options.pack;
    this.limits = pack && {
      maxRows: pack.maxRows,
      maxBytes: (topic) => {
        const broker = options.maxPacketSize();
        const brokerRoom = broker === undefined ? Number.POSITIVE_INFINITY : broker - Buffer.byteLength(topic) - PUBLISH_OVERHEAD;
        return Math.min(pack.maxBytes, brokerRoom);
      },
    };
  }

  /** The next publish, reading (and planning) the next chunk of the journal when needed. */
  peek(): PlannedPublish | undefined {
    if (this.next >= this.planned.length) this.readChunk();
    return this.planned[this.next];
  }

  /**
   * Rows an append just committed, handed over by the journal (AppendResult.rows): when they are
   * exactly what the next read would return (everything before them read and sent, and no more
   * than one read's worth), they are planned as if read, and the journal is not asked for them.
   * Otherwise they are left to the next read.
   */
  offer(rows: readonly JournalEntry[]): void {
    if (this.next < this.planned.length || rows.length === 0 || rows[0]!.seq !== this.after + 1) return;
    if (rows.length > this.chunkRows()) return;
    this.take(rows as JournalEntry[]);
  }

  /** The publish peek() returned was sent. */
  advance(): void {
    this.next += 1;
  }

  /** Start again from the oldest row still journaled. */
  rewind(): void {
    this.after = 0;
    this.planned = [];
    this.next = 0;
  }

  private readChunk(): void {
    this.take(this.options.journal.readAfter(this.after, this.chunkRows()));
  }

  /** Plans rows that follow `after` directly, as the next chunk. */
  private take(read: JournalEntry[]): void {
    const rows = this.options.restamp && read.length > 0 ? this.options.restamp(read) : read;
    this.next = 0;
    if (rows.length === 0) {
      this.planned = [];
      return;
    }
    this.after = rows[rows.length - 1]!.seq;
    const limits = this.limits;
    if (limits && rows.length > this.options.inflight) {
      const bytes = rows.reduce((sum, r) => sum + r.payload.length, 0);
      this.avgRowBytes = Math.max(16, bytes / rows.length);
      this.planned = planPublishes(rows, limits, this.cbor);
    } else {
      this.planned = rows.map(singlePublish);
    }
  }

  private chunkRows(): number {
    const { inflight, pack } = this.options;
    const plain = Math.max(256, inflight * 2);
    if (!pack) return plain;
    // Enough rows to fill a window of full packs, within a memory budget.
    const wanted = Math.min(pack.maxRows * inflight, Math.floor(PACK_CHUNK_BYTES / this.avgRowBytes));
    return Math.max(plain, wanted);
  }
}
