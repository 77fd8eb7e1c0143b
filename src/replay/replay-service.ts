// The replay command: `{site}/{gateway}/cmd/replay` → checks → one ReplaySession at a time →
// the answer on `{site}/{gateway}/cmd/replay/result`. Every request gets exactly one answer:
// a refusal at once, or the session's result when it ends. Replay is accepted only while
// buffer.keep_delivered is set (without it there is nothing delivered to send again).
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import type { HeldEntry, Journal } from '../journal/journal.js';
import type { Uplink } from '../uplink/uplink.js';
import type { PackLimits } from '../forwarder/packer.js';
import type { PackOptions } from '../forwarder/journal-cursor.js';
import { errorText } from '../util/errors.js';
import { boundedText } from '../util/quote-value.js';
import { type ReplayRequest, ReplayRefusal, parseReplayRequest, refusalText } from './replay-request.js';
import { type ReplayResult, ReplaySession } from './replay-session.js';

/** Devices and points a request may name, and the topics their readings are journaled on. */
export interface ReplayTopics {
  /** Topics of these devices' readings (only these points, if given); names not found are returned in `unknown`. */
  select(devices: string[] | undefined, points: string[] | undefined): { topics: Set<string>; unknown: string[] };
}

export interface ReplayServiceOptions {
  journal: Journal;
  uplink: Uplink;
  logger: Logger;
  clock: Clock;
  /** `{site}/{gateway}/cmd/replay`; results go to `<topic>/result`. */
  topic: string;
  keepDelivered: boolean;
  /** buffer.replay_rate: rows per second, 0 = unlimited. */
  rate: number;
  /** The live forwarder's window (buffer.inflight). */
  inflight: number;
  /** buffer.pack: replayed rows are packed the same way. */
  pack?: PackOptions;
  topics: ReplayTopics;
  /** Rows' times as the forwarder sends them (clock-guard.ts), never holding any back. */
  restamp?: (rows: HeldEntry[]) => HeldEntry[];
  /** Called with every answer (metrics, tests). */
  onResult?: (result: ReplayResult | Refusal) => void;
}

export interface Refusal {
  id?: string;
  ok: false;
  error: string;
  code: string;
}

/** A replay never keeps more publishes in flight than this (nor than the forwarder's window). */
const MAX_REPLAY_WINDOW = 16;

export class ReplayService {
  private running: { id: string; session: ReplaySession } | undefined;
  private stopped = false;
  /** A result that ended while the connection was down (an interrupted replay): sent on the next connect. */
  private unsent: ReplayResult | Refusal | undefined;
  private readonly onConnect = (): void => {
    const result = this.unsent;
    this.unsent = undefined;
    if (result) this.answer(result, false);
  };

  constructor(private readonly options: ReplayServiceOptions) {}

  get resultTopic(): string {
    return `${this.options.topic}/result`;
  }

  start(): void {
    this.options.uplink.subscribe(this.options.topic, 1, (_t, payload, meta) => this.handle(payload, meta.retain));
    this.options.uplink.on('connect', this.onConnect);
  }

  stop(): void {
    this.options.uplink.off('connect', this.onConnect);
    this.stopped = true;
    this.running?.session.cancel();
    this.running = undefined;
  }

  /** Takes one request; its answer is published (and passed to onResult). */
  handle(payload: Buffer, retained = false): void {
    if (this.stopped) return;
    let request: ReplayRequest;
    try {
      // A retained request would start the replay again on every reconnect.
      if (retained) throw new ReplayRefusal('retained', 'retained requests are ignored; publish without retain');
      request = parseReplayRequest(payload);
      if (!this.options.keepDelivered) {
        throw new ReplayRefusal('not_enabled', 'replay needs buffer.keep_delivered; delivered readings are not kept', request.id);
      }
      if (this.running) {
        throw new ReplayRefusal('busy', `replay ${this.running.id} is running; one replay runs at a time, ask again when its result came`, request.id);
      }
    } catch (err) {
      const refusal: Refusal = { ok: false, code: err instanceof ReplayRefusal ? err.code : 'error', error: refusalText(err as Error) };
      if (err instanceof ReplayRefusal && err.id !== undefined) refusal.id = err.id;
      this.options.logger.warn({ id: refusal.id, bytes: payload.length, err: refusal.error }, 'replay request refused');
      return this.answer(refusal);
    }
    this.begin(request);
  }

  private begin(request: ReplayRequest): void {
    const o = this.options;
    let selects: ((topic: string) => boolean) | undefined;
    if (request.devices || request.points) {
      const { topics, unknown } = o.topics.select(request.devices, request.points);
      if (unknown.length > 0) {
        const names = boundedText(unknown.slice(0, 5).join(', '), 200);
        return this.answer({ id: request.id, ok: false, code: 'unknown_name', error: `no such device or point: ${names}` });
      }
      selects = (topic) => topics.has(topic);
    }
    const session = new ReplaySession({
      source: {
        readHeld: (a, t, l) => {
          const rows = o.journal.readHeld(a, t, l);
          return o.restamp ? o.restamp(rows) : rows;
        },
        lastSeq: () => o.journal.stats().lastSeq,
      },
      uplink: o.uplink, logger: o.logger, clock: o.clock, request, selects,
      window: Math.max(1, Math.min(o.inflight, MAX_REPLAY_WINDOW)), rate: o.rate, pack: this.packLimits(),
      liveBacklog: () => o.journal.stats().depth, liveWindow: o.inflight,
      done: (result) => {
        this.running = undefined;
        o.logger.info({ id: result.id, sent: result.sent, gone: result.gone.length, error: result.error }, 'replay finished');
        this.answer(result);
      },
    });
    this.running = { id: request.id, session };
    o.logger.info({ id: request.id, range: request.range }, 'replay started');
    try {
      session.start();
    } catch (err) {
      this.running = undefined;
      session.cancel();
      this.answer({ id: request.id, ok: false, code: 'error', error: boundedText(errorText(err), 300) });
    }
  }

  private packLimits(): PackLimits | undefined {
    const { pack, uplink } = this.options;
    if (!pack) return undefined;
    return {
      maxRows: pack.maxRows,
      // The broker's Maximum Packet Size, less room for the PUBLISH's own header and properties.
      maxBytes: (topic) => Math.min(pack.maxBytes, (uplink.maxPacketSize ?? Number.POSITIVE_INFINITY) - Buffer.byteLength(topic) - 64),
    };
  }

  private answer(result: ReplayResult | Refusal, first = true): void {
    if (first) this.options.onResult?.(result);
    const { uplink, logger } = this.options;
    if (!uplink.connected) {
      logger.warn({ id: result.id }, 'replay result waits for the connection to the broker');
      this.unsent = result;
      return;
    }
    uplink.publish({ topic: this.resultTopic, payload: Buffer.from(JSON.stringify(result)), qos: 1, retain: false }, (err) => {
      if (err) logger.warn({ id: result.id, err: err.message }, 'could not publish a replay result');
    });
  }
}
