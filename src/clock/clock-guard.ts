// Keeps readings' times honest on a gateway whose clock may be wrong (clock-source.ts,
// clock-segments.ts). It samples the clock every second:
// - while the system clock is not synchronized, the rows journaled belong to an open segment;
// - a synchronization, or a jump of the wall clock against the monotonic one (≥ jumpMs), closes
//   it and sets the correction of every not-yet-final segment of this boot to the offset measured
//   now; a synchronization makes them final;
// - a jump while synchronized (NTP stepping a drifted clock) only gets logged: rows taken then
//   were as right as the system could tell.
// Before the forwarder publishes rows, restamp() rewrites the `ts` of rows in corrected segments,
// flags rows that can never be corrected (a segment of an earlier boot that was never final)
// with `"clock":"unsynced"`, and holds back rows of this boot still waiting for a sync — for at
// most holdMs after the uplink connected; after that they go out flagged. Without any segment (a
// synchronized clock, or one the system cannot judge) restamp() returns its input untouched.
import type { Logger } from 'pino';
import type { JournalEntry } from '../journal/journal.js';
import { CborCodec } from '../wire/cbor-codec.js';
import { errorText } from '../util/errors.js';
import type { ClockSource } from './clock-source.js';
import { type ClockSegment, type ClockSegmentFile, segmentOf } from './clock-segments.js';
import { restampPayload } from './restamp.js';

export interface ClockGuardOptions {
  source: ClockSource;
  file: ClockSegmentFile;
  /** The journal's last seq now: a segment opens above it and closes at it. */
  lastSeq(): number;
  /** The oldest seq the journal still holds (delivered or not): older segments are forgotten. */
  oldestHeldSeq(): number;
  logger: Logger;
  /** How long rows of this boot wait for a sync after the uplink connected; default 120 s. */
  holdMs?: number;
  /** A change of wall − monotonic at least this big is a jump; default 2 s. */
  jumpMs?: number;
  /** Sampling period; default 1 s. */
  sampleMs?: number;
  /** Rows may be published now that were held, or with a new time (the forwarder reads again). */
  onChange?: () => void;
}

const WARN_EVERY_MS = 10 * 60_000;

export class ClockGuard {
  private segments: ClockSegment[] = [];
  private boot = '';
  private synced = true;
  private offset = 0;
  private connectedAt: number | undefined;
  private holdOver = false;
  private lastWarn = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private readonly cbor = new CborCodec();

  constructor(private readonly options: ClockGuardOptions) {}

  get synchronized(): boolean {
    return this.synced;
  }

  /** Reads what an earlier run left, closes its open segment, and opens one if the clock is unsynchronized now. */
  open(): void {
    const o = this.options;
    this.boot = o.source.bootId();
    this.offset = this.measure();
    const last = o.lastSeq();
    this.segments = o.file.read()
      .map((s) => (s.toSeq === undefined ? { ...s, toSeq: last } : s))
      .filter((s) => s.toSeq! >= s.fromSeq);
    this.synced = o.source.synchronized() !== false;
    if (!this.synced) {
      this.openSegment();
      this.warnUnsynced(true);
    } else if (this.waiting()) {
      // The service restarted in the same boot and the clock was synchronized meanwhile: the
      // offset measured now corrects what the earlier run held.
      this.synced = false;
      this.correct(this.offset, true, 0);
      return;
    }
    const lost = this.segments.filter((s) => s.boot !== this.boot && !s.final);
    if (lost.length > 0) {
      o.logger.warn({ segments: lost.length }, 'readings taken before a restart with an unsynchronized clock cannot be corrected; they are published with "clock":"unsynced"');
    }
    this.save();
  }

  start(): void {
    this.timer = setInterval(() => this.sample(), this.options.sampleMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The uplink connected: rows waiting for a sync wait at most holdMs from now. */
  connected(): void {
    this.connectedAt = this.options.source.monotonicMs();
    this.holdOver = false;
  }

  /** Looks at the clock once (the timer calls this; tests call it directly). */
  sample(): void {
    const o = this.options;
    const offset = this.measure();
    const jump = offset - this.offset;
    this.offset = offset;
    const nowSynced = o.source.synchronized() !== false;
    const jumped = Math.abs(jump) >= (o.jumpMs ?? 2000);
    if (jumped && this.synced) {
      o.logger.warn({ jumpMs: jump }, 'the wall clock jumped while synchronized; readings keep the times they were taken with');
    }
    if ((jumped && !this.synced) || (nowSynced && !this.synced)) {
      this.correct(offset, nowSynced, jump);
    } else if (!nowSynced && this.synced) {
      this.synced = false;
      this.openSegment();
      this.save();
      this.warnUnsynced(true);
    }
    if (!this.synced) this.warnUnsynced(false);
    if (!this.holdOver && this.connectedAt !== undefined && this.waiting() && o.source.monotonicMs() - this.connectedAt >= (o.holdMs ?? 120_000)) {
      this.holdOver = true;
      o.logger.warn('the clock is still not synchronized: readings held for it are published now, flagged "clock":"unsynced"');
      o.onChange?.();
    }
  }

  /**
   * The rows the forwarder may publish now, with their times corrected or flagged; stops before
   * the first row that waits for a sync (order is kept). `hold` false (replay of rows already
   * delivered): every row comes back, with the best time known now.
   */
  restamp<T extends JournalEntry>(rows: T[], hold = true): T[] {
    if (this.segments.length === 0) return rows;
    const out: T[] = [];
    for (const row of rows) {
      const s = segmentOf(this.segments, row.seq);
      if (!s) {
        out.push(row);
        continue;
      }
      const current = s.boot === this.boot;
      if (hold && current && !s.final && !this.holdOver) break;
      const unsynced = !s.final;
      if (s.correction === 0 && !unsynced) {
        out.push(row);
        continue;
      }
      out.push({ ...row, payload: restampPayload(row.payload, row.encoding, s.correction, unsynced, this.cbor) });
    }
    return out;
  }

  private correct(offset: number, nowSynced: boolean, jump: number): void {
    const o = this.options;
    const last = o.lastSeq();
    let rows = 0;
    for (const s of this.segments) {
      if (s.boot !== this.boot || s.final) continue;
      if (s.toSeq === undefined) s.toSeq = last;
      s.correction = offset - s.offset;
      s.final = nowSynced;
      rows += Math.max(0, s.toSeq - s.fromSeq + 1);
    }
    this.segments = this.segments.filter((s) => s.toSeq! >= s.fromSeq);
    if (nowSynced) {
      this.synced = true;
      o.logger.info({ jumpMs: jump, rows }, `clock synchronized; ${rows} readings of this boot are re-stamped before they are published`);
    } else {
      o.logger.warn({ jumpMs: jump, rows }, 'the unsynchronized wall clock jumped; readings taken before are re-stamped to the new time');
      this.openSegment();
    }
    this.save();
    o.onChange?.();
  }

  /** Rows of this boot are waiting for a sync. */
  private waiting(): boolean {
    return this.segments.some((s) => s.boot === this.boot && !s.final);
  }

  private openSegment(): void {
    this.segments.push({ boot: this.boot, offset: this.offset, fromSeq: this.options.lastSeq() + 1, correction: 0, final: false });
  }

  private measure(): number {
    return this.options.source.wallMs() - this.options.source.monotonicMs();
  }

  private warnUnsynced(now: boolean): void {
    const t = this.options.source.monotonicMs();
    if (!now && t - this.lastWarn < WARN_EVERY_MS) return;
    this.lastWarn = t;
    this.options.logger.warn('the system clock is not synchronized: readings are held for a sync (and re-stamped then) or flagged "clock":"unsynced"');
  }

  private save(): void {
    const oldest = this.options.oldestHeldSeq();
    // Segments whose rows are all gone from the journal, and final ones with nothing to correct, are done.
    this.segments = this.segments.filter((s) => (s.toSeq === undefined || s.toSeq >= oldest) && !(s.final && s.correction === 0));
    try {
      this.options.file.write(this.segments);
    } catch (err) {
      this.options.logger.warn({ file: this.options.file.file, err: errorText(err) }, 'cannot write the clock segments; a restart may then publish uncorrected times');
    }
  }
}
