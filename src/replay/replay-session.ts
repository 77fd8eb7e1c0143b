// One replay: reads the requested stretch of the journal, sends the rows that were delivered
// (kept by buffer.keep_delivered) again, exactly as stored, and says what it could not send.
//
// Rules
// - Only delivered rows are sent. A row not yet delivered is on its way with the live stream
//   (reported as `pending`), so a replay never gets ahead of live data.
// - A replayed row is not the journal's to forget: its acknowledgement only counts it as sent.
//   The live forwarder's window, cursor and removes are never touched.
// - Live data first: the replay keeps at most `window` publishes in flight (never more than the
//   forwarder's own window, so a live reading waits behind at most one window of replayed ones),
//   waits while the live forwarder has more than a window of backlog, and is paced by
//   buffer.replay_rate (rows per second; a pack counts its rows).
// - Rows go out on their own topics with their own QoS, never retained (an old reading must not
//   replace the retained current one), packed as in buffer.pack when that is on.
// - A failed publish (connection lost) ends the replay; the result says from which seq to ask again.
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import type { HeldEntry, JournalEntry } from '../journal/journal.js';
import type { Uplink } from '../uplink/uplink.js';
import { TokenBucket } from '../forwarder/token-bucket.js';
import { planPublishes, singlePublish, type PackLimits, type PlannedPublish } from '../forwarder/packer.js';
import { CborCodec } from '../wire/cbor-codec.js';
import type { ReplayRequest } from './replay-request.js';
import { SeqRanges, type SeqRange } from './seq-ranges.js';

export interface ReplayResult {
  id: string;
  ok: boolean;
  /** Rows sent and acknowledged. */
  sent: number;
  /** Seq ranges asked for that the journal no longer holds (expired, evicted, dropped). */
  gone: SeqRange[];
  /** Seq ranges held but not yet delivered: they come with the live stream. */
  pending: SeqRange[];
  /** The journal's last seq when the replay started; seqs above it did not exist yet. */
  last_seq: number;
  error?: string;
  /** After an interruption: ask again from this seq. */
  resume_from_seq?: number;
}

/** Where a replay reads: the gateway's journal, or the CLI's read-only JournalReader. */
export interface HeldSource {
  readHeld(afterSeq: number, toSeq: number, limit: number): HeldEntry[];
  /** The journal's last seq now. */
  lastSeq(): number;
}

export interface ReplaySessionOptions {
  source: HeldSource;
  uplink: Uplink;
  logger: Logger;
  clock: Clock;
  request: ReplayRequest;
  /** Which topics the request selects (devices/points); absent = all. */
  selects?: (topic: string) => boolean;
  /** Publishes of this replay in flight at once. */
  window: number;
  /** Rows per second; 0 = unlimited. */
  rate: number;
  pack?: PackLimits;
  /** Undelivered rows the live forwarder has; the replay waits while this exceeds `liveWindow`. */
  liveBacklog(): number;
  liveWindow: number;
  done(result: ReplayResult): void;
}

const CHUNK = 500;
// A request may span millions of rows none of which is sent (filtered out, not delivered): read
// at most this many chunks per turn of the event loop, so live forwarding is never starved.
const CHUNKS_PER_TURN = 4;
const WAIT_MS = 50;

export class ReplaySession {
  private readonly bucket: TokenBucket;
  private readonly cbor = new CborCodec();
  private readonly gone = new SeqRanges();
  private readonly pending = new SeqRanges();
  private readonly lastSeq: number;
  private readonly toSeq: number;
  /** Highest seq read so far. */
  private after: number;
  /** Next seq expected while reading (seq requests), to see what is no longer held. */
  private expect: number;
  private previous: HeldEntry | undefined;
  private exhausted = false;
  private planned: PlannedPublish[] = [];
  private readonly inflight = new Set<PlannedPublish>();
  private sent = 0;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(private readonly options: ReplaySessionOptions) {
    this.bucket = new TokenBucket(options.rate, options.clock);
    this.lastSeq = options.source.lastSeq();
    const range = options.request.range;
    this.toSeq = range.kind === 'seq' ? Math.min(range.to, this.lastSeq) : this.lastSeq;
    this.after = range.kind === 'seq' ? range.from - 1 : 0;
    this.expect = this.after + 1;
  }

  start(): void {
    this.pump();
  }

  /** Ends the replay without a result (the gateway is stopping). */
  cancel(): void {
    this.finished = true;
    clearTimeout(this.timer);
  }

  private pump(): void {
    if (this.finished) return;
    const o = this.options;
    while (this.inflight.size < o.window) {
      if (!o.uplink.connected) return this.finish('not connected to the broker');
      if (o.liveBacklog() > o.liveWindow) return this.wait(WAIT_MS);
      const next = this.peek();
      if (!next) {
        if (!this.exhausted) return this.wait(1);
        break;
      }
      const wait = this.bucket.take(next.seqs.length);
      if (wait > 0) return this.wait(wait);
      this.planned.shift();
      this.send(next);
    }
    if (this.inflight.size === 0 && this.planned.length === 0 && this.exhausted) this.finish();
  }

  private wait(ms: number): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, ms);
  }

  private send(publish: PlannedPublish): void {
    this.inflight.add(publish);
    const message = { topic: publish.topic, payload: publish.payload, qos: publish.qos, retain: false, contentType: publish.contentType };
    this.options.uplink.publish(message, (err) => {
      if (this.finished) return;
      this.inflight.delete(publish);
      if (err) return this.finish(`publish failed: ${err.message}`, publish.seqs[0]);
      this.sent += publish.seqs.length;
      this.pump();
    });
  }

  /** The next publish, reading and planning a few chunks if needed; undefined if none yet (or none left). */
  private peek(): PlannedPublish | undefined {
    for (let i = 0; i < CHUNKS_PER_TURN && this.planned.length === 0 && !this.exhausted; i += 1) this.readChunk();
    return this.planned[0];
  }

  private readChunk(): void {
    const rows = this.options.source.readHeld(this.after, this.toSeq, CHUNK);
    if (rows.length === 0) {
      this.exhausted = true;
      if (this.options.request.range.kind === 'seq') this.gone.add(this.expect, this.toSeq);
      return;
    }
    this.after = rows.at(-1)!.seq;
    const send: JournalEntry[] = [];
    for (const row of rows) {
      this.noteHoleBefore(row);
      if (!this.wanted(row)) continue;
      if (row.delivered) send.push(row);
      else this.pending.add(row.seq, row.seq);
    }
    const { pack } = this.options;
    this.planned = pack && send.length > 1 ? planPublishes(send, pack, this.cbor) : send.map(singlePublish);
  }

  /** Seqs missing before `row` were asked for and are no longer held. */
  private noteHoleBefore(row: HeldEntry): void {
    const range = this.options.request.range;
    if (range.kind === 'seq') {
      this.gone.add(this.expect, row.seq - 1);
      this.expect = row.seq + 1;
      return;
    }
    // By time, a hole counts when the rows around it do not rule out that it held readings of
    // the window (its rows' times are gone with them).
    const prev = this.previous;
    this.previous = row;
    const from = prev ? prev.seq + 1 : 1;
    if (from < row.seq && (prev === undefined || prev.ts < range.until) && row.ts >= range.since) this.gone.add(from, row.seq - 1);
  }

  private wanted(row: HeldEntry): boolean {
    const { request, selects } = this.options;
    const range = request.range;
    if (range.kind === 'time' && (row.ts < range.since || row.ts >= range.until)) return false;
    return selects === undefined || selects(row.topic);
  }

  private finish(error?: string, failedSeq?: number): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const result: ReplayResult = {
      id: this.options.request.id, ok: error === undefined, sent: this.sent,
      gone: this.gone.list, pending: this.pending.list, last_seq: this.lastSeq,
    };
    if (error !== undefined) {
      result.error = error;
      // Everything from the oldest row not confirmed on must be asked for again (a publish's
      // seqs ascend, so its first is its oldest).
      let resume = Math.min(failedSeq ?? Number.POSITIVE_INFINITY, this.after + 1);
      for (const p of [...this.inflight, ...this.planned]) resume = Math.min(resume, p.seqs[0]!);
      result.resume_from_seq = resume;
    }
    this.inflight.clear();
    this.planned = [];
    this.options.done(result);
  }
}
