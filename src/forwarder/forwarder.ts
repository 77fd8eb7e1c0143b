// Moves journaled messages to the broker, oldest first, with at most `inflight` unacknowledged.
//
// Rules that make "nothing lost, order kept" hold:
// - a row is removed from the journal only after the broker acknowledged that very row
//   (PUBACK/PUBCOMP; QoS 0 once written to the socket);
// - after any connection loss the cursor goes back to the oldest row still journaled, so every
//   row not yet acknowledged is sent again, in seq order; duplicates are bounded by the window;
// - the uplink never queues: a publish made on a dead connection fails and is resent from here.
// Acknowledged seqs are removed in batches (one transaction per batch) to keep the drain fast.
import type { Logger } from 'pino';
import type { Journal, JournalEntry } from '../journal/journal.js';
import type { Uplink } from '../uplink/uplink.js';
import type { Clock } from '../driver-api/index.js';

export interface ForwarderOptions {
  journal: Journal;
  uplink: Uplink;
  /** Unacknowledged publishes at once. */
  inflight: number;
  /** Messages per second while draining; 0 = as fast as acknowledgements come. */
  replayRate: number;
  logger: Logger;
  clock: Clock;
  /** Called for every acknowledged (ok) or failed (error) publish. */
  onPublished?: (ok: boolean) => void;
  /** Remove acknowledged rows once this many are waiting, or after removeDelayMs. */
  removeBatch?: number;
  removeDelayMs?: number;
}

export class Forwarder {
  private cursor = 0;
  private generation = 0;
  private inflightCount = 0;
  private prefetched: JournalEntry[] = [];
  private prefetchIndex = 0;
  private acked: number[] = [];
  private removeTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private pacingTimer: NodeJS.Timeout | undefined;
  private running = false;
  private paused = false;
  private lastAckAt = 0;
  private tokens = 0;
  private tokensAt = 0;
  private readonly removeBatch: number;
  private readonly removeDelayMs: number;
  private readonly onConnect = (): void => {
    this.reset();
    this.schedulePump();
  };
  private readonly onDisconnect = (): void => this.reset();

  constructor(private readonly options: ForwarderOptions) {
    this.removeBatch = options.removeBatch ?? 500;
    this.removeDelayMs = options.removeDelayMs ?? 20;
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

  /** Connection lost or replaced: forget what is in flight and start again from the oldest row. */
  private reset(): void {
    this.generation += 1;
    this.inflightCount = 0;
    this.flushRemovals();
    this.cursor = 0;
    this.prefetched = [];
    this.prefetchIndex = 0;
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
      const entry = this.nextEntry();
      if (!entry) return;
      if (!this.takeToken()) {
        this.prefetchIndex -= 1;
        return;
      }
      this.send(entry);
    }
  }

  private nextEntry(): JournalEntry | undefined {
    if (this.prefetchIndex >= this.prefetched.length) {
      this.prefetched = this.options.journal.readAfter(this.cursor, Math.max(256, this.options.inflight * 2));
      this.prefetchIndex = 0;
      if (this.prefetched.length === 0) return undefined;
    }
    const entry = this.prefetched[this.prefetchIndex++]!;
    this.cursor = entry.seq;
    return entry;
  }

  private send(entry: JournalEntry): void {
    const generation = this.generation;
    this.inflightCount += 1;
    this.options.uplink.publish(entry, (err) => {
      if (err) {
        this.options.onPublished?.(false);
        // Usually the connection is going away. Everything from the oldest unacknowledged row is
        // sent again; if the broker refused the message itself (MQTT 5 reason code) we keep the
        // row and retry after a pause rather than drop data or spin.
        if (generation === this.generation) {
          this.reset();
          if (this.options.uplink.connected) this.pause(err);
        }
        return;
      }
      this.lastAckAt = this.options.clock.now();
      this.options.onPublished?.(true);
      this.acked.push(entry.seq);
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

  /** Token bucket for replay_rate; always true when unlimited. */
  private takeToken(): boolean {
    const rate = this.options.replayRate;
    if (rate <= 0) return true;
    const now = this.options.clock.now();
    this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) * rate) / 1000);
    this.tokensAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
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
