// Moves journaled messages to the broker, oldest first, with at most `inflight` unacknowledged.
//
// Rules that make "nothing lost, order kept" hold:
// - a row is removed from the journal only after the broker acknowledged that very row
//   (PUBACK/PUBCOMP; QoS 0 once written to the socket);
// - after any connection loss the cursor goes back to the oldest row still journaled, so every
//   row not yet acknowledged is sent again, in seq order; duplicates are bounded by the window;
// - the uplink never queues: a publish made on a dead connection fails and is resent from here.
//
// The parts: JournalCursor reads and plans what to send next (packing a backlog, packer.ts);
// TokenBucket paces the drain (replay_rate); AckBatcher removes acknowledged rows in batches.
// This file is the window: it sends while fewer than `inflight` publishes are unacknowledged
// and decides what an acknowledgement or a failure means.
//
// Packing (buffer.pack): a pack is one publish in the window and is acknowledged as a unit: all
// its rows are removed after its PUBACK, and after a connection loss all of them are resent, so
// duplicates stay bounded by window × pack. Live data (no backlog) keeps one message per row.
import { setLongTimeout, type LongTimer } from '../util/long-timer.js';
import type { Logger } from 'pino';
import type { Journal, JournalEntry } from '../journal/journal.js';
import type { Uplink } from '../uplink/uplink.js';
import type { Clock } from '../driver-api/index.js';
import type { PlannedPublish } from './packer.js';
import { JournalCursor, type PackOptions } from './journal-cursor.js';
import { TokenBucket } from './token-bucket.js';
import { AckBatcher } from './ack-batcher.js';

export type { PackOptions } from './journal-cursor.js';

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
  /** Rewrites rows' times before they are sent, holding back rows that wait for a clock sync. */
  restamp?: (rows: JournalEntry[]) => JournalEntry[];
  /**
   * Remove acknowledged rows once this many are waiting (default 500), or removeDelayMs (default
   * 1 s) after the first of them. A removal is a transaction of its own; at a site's usual rates a
   * short delay made it one per poll. Rows acknowledged but not yet removed are sent again after a
   * crash: duplicates, bounded by removeBatch.
   */
  removeBatch?: number;
  removeDelayMs?: number;
}

/** How long to hold off after the broker refused a publish (an MQTT 5 reason code). */
const REFUSED_PAUSE_MS = 1000;

/**
 * idle → running (start) → stopped (stop) → closed (close). Stopped still takes acknowledgements
 * (the uplink is closing); closed ignores them, as the journal may be gone.
 */
type State = 'idle' | 'running' | 'stopped' | 'closed';

export class Forwarder {
  private state: State = 'idle';
  /**
   * Bumped on every reset (connection lost or replaced, a publish failed). A publish remembers
   * the generation it was sent in: only a failure of the current generation resets, so the burst
   * of failures one connection loss brings causes one reset, not one per publish in flight.
   */
  private generation = 0;
  /** Unacknowledged publishes of the current generation. */
  private inflightCount = 0;
  private lastAckAt = 0;
  private pumpScheduled = false;
  /** Set while waiting for the token bucket. */
  private pacingTimer: LongTimer | undefined;
  /** Set while holding off after a refused publish. */
  private refusedTimer: NodeJS.Timeout | undefined;
  private readonly cursor: JournalCursor;
  private readonly bucket: TokenBucket;
  private readonly acks: AckBatcher;
  private readonly onConnect = (): void => {
    this.reset();
    this.schedulePump();
  };
  private readonly onDisconnect = (): void => this.reset();

  constructor(private readonly options: ForwarderOptions) {
    const { journal, uplink } = options;
    this.cursor = new JournalCursor({
      journal, inflight: options.inflight, pack: options.pack, maxPacketSize: () => uplink.maxPacketSize, restamp: options.restamp,
    });
    this.bucket = new TokenBucket(options.replayRate, options.clock);
    this.acks = new AckBatcher({
      remove: (seqs) => journal.remove(seqs),
      maxRows: options.removeBatch ?? 500,
      delayMs: options.removeDelayMs ?? 1000,
      logger: options.logger,
    });
  }

  start(): void {
    this.state = 'running';
    this.options.uplink.on('connect', this.onConnect);
    this.options.uplink.on('disconnect', this.onDisconnect);
    this.schedulePump();
  }

  /** New rows were journaled. */
  notify(): void {
    this.schedulePump();
  }

  /**
   * New rows were just committed (the append queue, after its transaction): they are sent now
   * rather than on the next turn of the event loop, which would cost every poll one more loop
   * iteration. A pump already scheduled runs as planned. `rows`, the append's own (AppendResult
   * .rows), spare the cursor reading back what was just written when they are next in line.
   */
  committed(rows?: readonly JournalEntry[]): void {
    if (this.pumpScheduled || this.state !== 'running') return;
    if (rows) this.cursor.offer(rows);
    this.pump();
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
      this.acks.flush();
      if (this.inflightCount === 0 && this.options.journal.stats().depth === 0) return true;
      if (!this.options.uplink.connected && this.inflightCount === 0) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.acks.flush();
    return this.options.journal.stats().depth === 0;
  }

  stop(): void {
    if (this.state === 'running') this.state = 'stopped';
    this.options.uplink.off('connect', this.onConnect);
    this.options.uplink.off('disconnect', this.onDisconnect);
    this.pacingTimer?.clear();
    this.pacingTimer = undefined;
    clearTimeout(this.refusedTimer);
    this.refusedTimer = undefined;
    this.acks.flush();
  }

  /**
   * After the uplink has stopped: removes the rows whose acknowledgement arrived while it was
   * closing (publishing offline, ending the socket), so a restart does not send them again, and
   * ignores anything later. The journal must still be open.
   */
  close(): void {
    this.stop();
    this.state = 'closed';
  }

  /** Connection lost or replaced: forget what is in flight and start again from the oldest row. */
  private reset(): void {
    this.generation += 1;
    this.inflightCount = 0;
    // Removed before the rewind, so the next read does not return rows already acknowledged.
    this.acks.flush();
    this.cursor.rewind();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.state !== 'running') return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const { uplink, inflight } = this.options;
    while (this.state === 'running' && this.refusedTimer === undefined && uplink.connected && this.inflightCount < inflight) {
      const next = this.cursor.peek();
      if (!next) return;
      const wait = this.bucket.take(next.seqs.length);
      if (wait > 0) {
        // A tiny replay_rate (0.000001/s) means a wait beyond a plain timer's 24.8 days.
        this.pacingTimer ??= setLongTimeout(() => {
          this.pacingTimer = undefined;
          this.schedulePump();
        }, wait);
        return;
      }
      this.cursor.advance();
      this.send(next);
    }
  }

  private send(publish: PlannedPublish): void {
    const generation = this.generation;
    const rows = publish.seqs.length;
    this.inflightCount += 1;
    // A PlannedPublish is an OutgoingMessage (its seqs are not looked at): no copy per message.
    this.options.uplink.publish(publish, (err) => {
      if (err) this.failed(generation, rows, err);
      else this.acknowledged(generation, publish.seqs);
    });
  }

  private failed(generation: number, rows: number, err: Error): void {
    this.options.onPublished?.(false, rows);
    // An older generation's failure was already answered by the reset that ended it.
    if (generation !== this.generation) return;
    // Usually the connection is going away. Everything from the oldest unacknowledged row is
    // sent again; if the broker refused the message itself (MQTT 5 reason code) the row is kept
    // and retried after a pause rather than dropped or resent in a tight loop.
    this.reset();
    if (this.options.uplink.connected) this.holdOffAfterRefusal(err);
  }

  private acknowledged(generation: number, seqs: readonly number[]): void {
    // Closed: the journal may be gone; the rows stay journaled and are sent again (duplicates).
    if (this.state === 'closed') return;
    this.lastAckAt = this.options.clock.now();
    this.options.onPublished?.(true, seqs.length);
    // A late acknowledgement — of a publish sent before the last reset — still removes its rows:
    // the broker has them. It does not free a slot: the reset emptied the window already, and the
    // rows may be on their way again (a duplicate the consumer drops by seq).
    this.acks.add(seqs);
    if (generation === this.generation) this.inflightCount -= 1;
    this.schedulePump();
  }

  private holdOffAfterRefusal(err: Error): void {
    this.options.logger.warn({ err: err.message }, `broker refused a publish; retrying in ${REFUSED_PAUSE_MS / 1000}s`);
    clearTimeout(this.refusedTimer);
    this.refusedTimer = setTimeout(() => {
      this.refusedTimer = undefined;
      this.schedulePump();
    }, REFUSED_PAUSE_MS);
    this.refusedTimer.unref();
  }
}
