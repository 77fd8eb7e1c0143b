// A device's fault state and what it says in the log. A dead meter fails at every poll, often in
// several requests per poll and with texts that differ in details; logging each failure, or each
// change of text, flooded the host's journal (ten warnings a second for one meter answering
// exception 04). So the state changes per fault *kind* (the driver's short stable label:
// "timeout", "exception", "connection"…), not per text:
// - the first fault of an outage is a warning, and so is the first fault of each other kind seen
//   during that outage (a device that alternates between two kinds logs each once);
// - while it keeps failing, one "still failing" summary at most every `summaryEveryMs`;
// - when it answers again, one line saying how long it was down and how many polls failed;
// - a device that flaps (fails, answers, fails again within `summaryEveryMs` of its last logged
//   fault) logs those short outages at debug and counts them in the next line that is logged,
//   so marginal wiring that fails every other poll is not two lines a poll either.
// Everything else goes to debug.
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { errorText } from '../util/errors.js';

/** Default for FaultStateOptions.summaryEveryMs. */
export const FAULT_SUMMARY_EVERY_MS = 60_000;

export interface FaultStateOptions {
  logger: Logger;
  clock: Clock;
  summaryEveryMs?: number;
}

interface Outage {
  since: number;
  /** Started too soon after the last logged outage: logged at debug, recovery too. */
  quiet: boolean;
  lastWarnAt: number;
  failedPolls: number;
  /** Faults per kind during this outage. */
  kinds: Map<string, number>;
  lastKind: string;
  lastText: string;
}

export class FaultState {
  private outage: Outage | undefined;
  private readonly summaryEveryMs: number;
  /** When an outage was last logged as a warning (clock ms); -Infinity: never. */
  private lastLoudStart = Number.NEGATIVE_INFINITY;
  /** Quiet outages since the last one logged at warn. */
  private flaps = 0;

  constructor(private readonly options: FaultStateOptions) {
    this.summaryEveryMs = options.summaryEveryMs ?? FAULT_SUMMARY_EVERY_MS;
  }

  get faulty(): boolean {
    return this.outage !== undefined;
  }

  /** A fault seen now; `kind` is the driver's stable label, `err` supplies the text. */
  fault(kind: string, err: unknown): void {
    const now = this.options.clock.now();
    const text = errorText(err);
    const detail = causeText(err, text);
    const o = this.outage;
    if (o === undefined) {
      const quiet = now - this.lastLoudStart < this.summaryEveryMs;
      this.outage = { since: now, quiet, lastWarnAt: now, failedPolls: 0, kinds: new Map([[kind, 1]]), lastKind: kind, lastText: text };
      if (quiet) {
        this.flaps += 1;
        this.options.logger.debug({ kind, err: text, detail, flaps: this.flaps }, 'device fault (again)');
        return;
      }
      this.lastLoudStart = now;
      const flaps = this.flaps > 0 ? this.flaps : undefined;
      this.flaps = 0;
      this.options.logger.warn({ kind, err: text, detail, flaps }, 'device fault');
      return;
    }
    const seen = o.kinds.get(kind);
    o.kinds.set(kind, (seen ?? 0) + 1);
    const previous = o.lastKind;
    o.lastKind = kind;
    o.lastText = text;
    if (seen === undefined && !o.quiet) {
      o.lastWarnAt = now;
      this.options.logger.warn({ kind, err: text, detail, previous }, 'device fault changed');
    } else if (now - o.lastWarnAt >= this.summaryEveryMs) {
      o.lastWarnAt = now;
      o.quiet = false;
      this.lastLoudStart = now;
      this.options.logger.warn(
        { kind, err: text, downMs: now - o.since, failedPolls: o.failedPolls, faults: Object.fromEntries(o.kinds) },
        'device still failing',
      );
    } else {
      this.options.logger.debug({ kind, err: text, detail }, 'device fault persists');
    }
  }

  /** A poll ended in failure (counted for the recovery line; the fault itself came through fault()). */
  pollFailed(): void {
    if (this.outage) this.outage.failedPolls += 1;
  }

  /** The device answers again. */
  recovered(): void {
    const o = this.outage;
    if (o === undefined) return;
    this.outage = undefined;
    const level = o.quiet ? 'debug' : 'info';
    this.options.logger[level](
      { downMs: this.options.clock.now() - o.since, failedPolls: o.failedPolls, faults: Object.fromEntries(o.kinds), lastErr: o.lastText },
      'device recovered',
    );
  }
}

/** The cause's text when it adds something: where drivers keep variable details out of the message. */
function causeText(err: unknown, text: string): string | undefined {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause === undefined) return undefined;
  const c = errorText(cause);
  return c === '' || text.includes(c) ? undefined : c;
}
