// Report-by-exception: a reading is published when it differs enough from the last one published
// (deadband), when it has not been published for `heartbeat`, or when its quality changes.
// A bad reading is published when the point turns bad, at the heartbeat, and when its error
// changes — but a changed error at most once per BAD_ERROR_CHANGE_EVERY_MS: drivers keep their
// texts stable, and this bound holds even when one does not (a text with a retry delay in it once
// made a dead meter publish every point at every poll).
import type { Scalar } from '../driver-api/index.js';

/** While a point stays bad, least time between two publishes caused by a change of error text. */
export const BAD_ERROR_CHANGE_EVERY_MS = 60_000;

export interface FilterSettings {
  /**
   * Minimum change of a numeric value (non-numeric values: any change). Undefined: every reading
   * is published — unless a heartbeat is set, which alone means "on change, and at least this often".
   */
  deadband?: number;
  /** Publish at least this often (ms) even without change; undefined = never forced. */
  heartbeatMs?: number;
}

export class PointFilter {
  private published = false;
  private lastValue: Scalar | null = null;
  private lastBad = false;
  private lastError: string | undefined;
  private lastTs = 0;

  constructor(private readonly settings: FilterSettings) {}

  /**
   * Decides and, when the answer is yes, records the reading as the last one published. Plain
   * arguments, not an object: the mapper calls it for every reading of every poll.
   */
  accept(value: Scalar | null, bad: boolean, error: string | undefined, ts: number, force = false): boolean {
    if (force || this.due(value, bad, error, ts)) {
      this.published = true;
      this.lastValue = value;
      this.lastBad = bad;
      this.lastError = error;
      this.lastTs = ts;
      return true;
    }
    return false;
  }

  private due(v: Scalar | null, bad: boolean, error: string | undefined, ts: number): boolean {
    if (!this.published) return true;
    if (bad !== this.lastBad) return true;
    const { deadband, heartbeatMs } = this.settings;
    if (heartbeatMs !== undefined && ts - this.lastTs >= heartbeatMs) return true;
    // A device that keeps failing the same way is reported once, not on every poll.
    if (bad) return error !== this.lastError && ts - this.lastTs >= BAD_ERROR_CHANGE_EVERY_MS;
    if (deadband === undefined && heartbeatMs === undefined) return true;
    if (deadband === undefined) return !sameValue(v, this.lastValue);
    const last = this.lastValue;
    if (typeof v === 'number' && typeof last === 'number') return Math.abs(v - last) >= deadband;
    if (typeof v === 'bigint' && typeof last === 'bigint') {
      const diff = v > last ? v - last : last - v;
      return Number(diff) >= deadband;
    }
    return v !== last;
  }
}

function sameValue(a: Scalar | null, b: Scalar | null): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
}
