// Moves journaled messages to the broker, oldest first, with at most `inflight` unacknowledged.
//
// Rules that make "nothing lost, order kept" hold:
// - a row is removed from the journal only after the broker acknowledged that very row
//   (PUBACK/PUBCOMP; QoS 0 once written to the socket);
// - after any connection loss the cursor goes back to the oldest row still journaled, so every
//   row not yet acknowledged is sent again, in seq order; duplicates are bounded by the window;
// - the uplink never queues: a publish made on a dead connection fails and is resent from here.
// Acknowledged seqs are removed in batches (one transaction per batch) to keep the drain fast.
//
// Packing (buffer.pack): while a backlog drains — a chunk read from the journal holds more rows
// than the window — rows of one topic are packed into one publish (packer.ts). A pack is one
// publish in the window and is acknowledged as a unit: all its rows are removed after its PUBACK,
// and after a connection loss all of them are resent, so duplicates stay bounded by window × pack.
// Live data (no backlog) keeps its one-message-per-row shape and latency.
import type { Logger } from 'pino';
import type { Journal } from '../journal/journal.js';
import type { Uplink } from '../uplink/uplink.js';
import type { Clock } from '../driver-api/index.js';
import { CborCodec } from '../wire/cbor-codec.js';
import { planPublishes, singlePublish, type PackLimits, type PlannedPublish } from './packer.js';

export interface PackOptions {
  /** Most rows per pack (buffer.max_pack). */
  maxRows: number;
  /** Largest pack payload in bytes (buffer.max_pack_bytes); the broker's Maximum Packet Size also applies. */
  maxBytes: number;
}

// Room for the fixed header, topic length, packet id and MQTT 5 properties of a pack's PUBLISH.
const PUBLISH_OVERHEAD = 64;
// Rows read per chunk while packing are bounded by memory: about this many payload bytes.
const PACK_CHUNK_BYTES = 4 * 1024 * 1024;

export interface ForwarderOptions {
  journal: Journal;
  uplink: Uplink;
  /** Unacknowledged publishes at once. */
  inflight: number;
  /** Rows per second while draining (a pack of n rows counts n); 0 = as fast as acknowledgements come. */
  replayRate: number;
  /** Pack rows of the same topic while a backlog drains; absent = never. */
  pack?: PackOptions;
  logger: Logger;
  clock: Clock;
  /** Called for every acknowledged (ok) or failed (error) publish, with the rows it carried. */
  onPublished?: (ok: boolean, rows: number) => void;
  /** Remove acknowledged rows once this many are waiting, or after removeDelayMs. */
  removeBatch?: number;
  removeDelayMs?: number;
}

export class Forwarder {
  private cursor = 0;
  private generation = 0;
  private inflightCount = 0;
  private planned: PlannedPublish[] = [];
  private plannedIndex = 0;
  private avgRowBytes = 256;
  private acked: number[] = [];
  private removeTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private pacingTimer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;
  private paused = false;
  private lastAckAt = 0;
  private tokens = 0;
  private tokensAt = 0;
  private readonly removeBatch: number;
  private readonly removeDelayMs: number;
  private readonly cbor = new CborCodec();
  private readonly limits: PackLimits | undefined;
  private readonly onConnect = (): void => {
    this.reset();
    this.schedulePump();
  };
  private readonly onDisconnect = (): void => this.reset();

  constructor(private readonly options: ForwarderOptions) {
    this.removeBatch = options.removeBatch ?? 500;
    this.removeDelayMs = options.removeDelayMs ?? 20;
    const pack = options.pack;
    this.limits = pack && {
      maxRows: pack.maxRows,
      maxBytes: (topic) => {
        const broker = options.uplink.maxPacketSize;
        const brokerRoom = broker === undefined ? Number.POSITIVE_INFINITY : broker - Buffer.byteLength(topic) - PUBLISH_OVERHEAD;
        return Math.min(pack.maxBytes, brokerRoom);
      },
    };
  }

  start(): void {
    this.running = true;
    this.options.uplink.on('connect', this.onConnect);
    this.options.uplink.on('disconnect', this.onDisconnect);
    this.schedulePump();
  }

  /** New rows were journaled. */
  notify(): void {
    this.schedulePump();
  }

  /** Publishes still awaiting acknowledgement. */
  get inflight(): number {
    return this.inflightCount;
  }

  /** Epoch ms of the last acknowledgement (0 = none yet); used by the watchdog and health. */
  get lastAck(): number {
    return this.lastAckAt;
  }

  /**
   * Keeps forwarding until the journal is empty and nothing is in flight, or until timeoutMs.
   * Returns true when everything was delivered.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = this.options.clock.now() + timeoutMs;
    this.schedulePump();
    while (this.options.clock.now() < deadline) {
      this.flushRemovals();
      if (this.inflightCount === 0 && this.options.journal.stats().depth === 0) return true;
      if (!this.options.uplink.connected && this.inflightCount === 0) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.flushRemovals();
    return this.options.journal.stats().depth === 0;
  }

  stop(): void {
    this.running = false;
    this.options.uplink.off('connect', this.onConnect);
    this.options.uplink.off('disconnect', this.onDisconnect);
    if (this.pacingTimer) clearTimeout(this.pacingTimer);
    this.pacingTimer = undefined;
    this.flushRemovals();
  }

  /**
   * After the uplink has stopped: removes the rows whose acknowledgement arrived while it was
   * closing (publishing offline, ending the socket), so a restart does not send them again, and
   * ignores anything later. The journal must still be open.
   */
  close(): void {
    this.stop();
    this.closed = true;
  }

  /** Connection lost or replaced: forget what is in flight and start again from the oldest row. */
  private reset(): void {
    this.generation += 1;
    this.inflightCount = 0;
    this.flushRemovals();
    this.cursor = 0;
    this.planned = [];
    this.plannedIndex = 0;
  }

  private schedulePump(): void {
    if (this.pumpScheduled || !this.running) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const { uplink, inflight } = this.options;
    while (this.running && !this.paused && uplink.connected && this.inflightCount < inflight) {
      const next = this.peek();
      if (!next) return;
      if (!this.takeToken(next.seqs.length)) return;
      this.plannedIndex += 1;
      this.send(next);
    }
  }

  /** The next publish, reading (and planning) the next chunk of the journal when needed. */
  private peek(): PlannedPublish | undefined {
    if (this.plannedIndex >= this.planned.length) {
      const rows = this.options.journal.readAfter(this.cursor, this.chunkRows());
      this.plannedIndex = 0;
      if (rows.length === 0) {
        this.planned = [];
        return undefined;
      }
      this.cursor = rows[rows.length - 1]!.seq;
      const limits = this.limits;
      if (limits && rows.length > this.options.inflight) {
        const bytes = rows.reduce((sum, r) => sum + r.payload.length, 0);
        this.avgRowBytes = Math.max(16, bytes / rows.length);
        this.planned = planPublishes(rows, limits, this.cbor);
      } else {
        this.planned = rows.map(singlePublish);
      }
    }
    return this.planned[this.plannedIndex];
  }

  private chunkRows(): number {
    const { inflight, pack } = this.options;
    const plain = Math.max(256, inflight * 2);
    if (!pack) return plain;
    // Enough rows to fill a window of full packs, within a memory budget.
    const wanted = Math.min(pack.maxRows * inflight, Math.floor(PACK_CHUNK_BYTES / this.avgRowBytes));
    return Math.max(plain, wanted);
  }

  private send(publish: PlannedPublish): void {
    const generation = this.generation;
    const rows = publish.seqs.length;
    this.inflightCount += 1;
    const message = { topic: publish.topic, payload: publish.payload, qos: publish.qos, retain: publish.retain, contentType: publish.contentType };
    this.options.uplink.publish(message, (err) => {
      if (err) {
        this.options.onPublished?.(false, rows);
        // Usually the connection is going away. Everything from the oldest unacknowledged row is
        // sent again; if the broker refused the message itself (MQTT 5 reason code) we keep the
        // row and retry after a pause rather than drop data or spin.
        if (generation === this.generation) {
          this.reset();
          if (this.options.uplink.connected) this.pause(err);
        }
        return;
      }
      // Closed: the journal may be gone; the row stays journaled and is sent again (a duplicate).
      if (this.closed) return;
      this.lastAckAt = this.options.clock.now();
      this.options.onPublished?.(true, rows);
      for (const seq of publish.seqs) this.acked.push(seq);
      if (generation === this.generation) this.inflightCount -= 1;
      if (this.acked.length >= this.removeBatch) this.flushRemovals();
      else if (!this.removeTimer) this.removeTimer = setTimeout(() => this.flushRemovals(), this.removeDelayMs);
      this.schedulePump();
    });
  }

  private flushRemovals(): void {
    if (this.removeTimer) clearTimeout(this.removeTimer);
    this.removeTimer = undefined;
    if (this.acked.length === 0) return;
    const seqs = this.acked;
    this.acked = [];
    try {
      this.options.journal.remove(seqs);
    } catch (err) {
      // Rows stay journaled and will be sent again: a duplicate, never a loss.
      this.options.logger.error({ err, count: seqs.length }, 'could not remove acknowledged messages from the journal');
    }
  }

  private pause(err: Error): void {
    this.options.logger.warn({ err: err.message }, 'broker refused a publish; retrying in 1s');
    this.paused = true;
    setTimeout(() => {
      this.paused = false;
      this.schedulePump();
    }, 1000).unref();
  }

  /**
   * Token bucket for replay_rate, in rows; always true when unlimited. A pack may take the bucket
   * below zero: it goes out whole, and the next publish waits until the debt is paid.
   */
  private takeToken(rows: number): boolean {
    const rate = this.options.replayRate;
    if (rate <= 0) return true;
    const now = this.options.clock.now();
    this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) * rate) / 1000);
    this.tokensAt = now;
    if (this.tokens >= 1) {
      this.tokens -= rows;
      return true;
    }
    if (!this.pacingTimer) {
      const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / rate));
      this.pacingTimer = setTimeout(() => {
        this.pacingTimer = undefined;
        this.schedulePump();
      }, wait);
    }
    return false;
  }
}
