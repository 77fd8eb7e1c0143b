// What the status page shows of one device: the last reading of every point (whether or not it
// was published: deadband and heartbeat decide that, not this), polls, faults by kind and the last
// fault. Fixed size per device (one slot per point, overwritten in place).
import type { PointConfigBase, Reading } from '../driver-api/index.js';
import { errorText } from '../util/errors.js';
import { scaleValue } from '../mapping/reading-mapper.js';
import { PositionalLookup } from '../util/positional-lookup.js';

export interface LastReading {
  value: unknown;
  quality: 'good' | 'bad';
  error?: string;
  ts: number;
}

/** The last reading of one point as it arrived: overwritten in place, converted only when asked. */
interface Slot {
  name: string;
  scale: number;
  offset: number;
  seen: boolean;
  raw: Reading['value'];
  bad: boolean;
  error: string | undefined;
  ts: number;
}

export class DeviceStatusRecorder {
  polls = 0;
  readonly errors: Record<string, number> = Object.create(null) as Record<string, number>;
  lastError: { text: string; at: number } | undefined;
  /** When a good value of any point last arrived (a trial of a new site file waits for one). */
  lastGoodAt: number | undefined;
  // One slot per configured point, made once: recording a reading allocates nothing (this runs
  // for every reading; the status page that reads it, rarely).
  private readonly slots: Map<string, Slot>;
  private readonly byPosition: PositionalLookup<Slot>;

  constructor(points: readonly PointConfigBase[]) {
    this.slots = new Map(points.map((p) => [p.name, {
      name: p.name, scale: p.scale ?? 1, offset: p.offset ?? 0, seen: false, raw: null, bad: false, error: undefined, ts: 0,
    }]));
    this.byPosition = new PositionalLookup(this.slots, (slot) => slot.name);
  }

  polled(): void {
    this.polls += 1;
  }

  /** Keeps the last reading of each configured point. */
  readings(readings: readonly Reading[], now: number): void {
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      // Only configured points: a driver reporting others is logged elsewhere, not remembered.
      const slot = this.byPosition.at(i, r.point);
      if (!slot) continue;
      slot.seen = true;
      slot.raw = r.value;
      slot.bad = r.quality === 'bad' || r.value === null;
      slot.error = r.error;
      slot.ts = r.ts ?? now;
      if (!slot.bad) this.lastGoodAt = now;
    }
  }

  fault(kind: string, err: unknown, at: number): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    this.lastError = { text: errorText(err), at };
  }

  /** The last reading of a point in engineering units (scale and offset applied). */
  lastOf(point: string): LastReading | undefined {
    const slot = this.slots.get(point);
    if (!slot?.seen) return undefined;
    const value = slot.raw === null ? null : scaleValue(slot.raw, slot.scale, slot.offset);
    return { value, quality: slot.bad ? 'bad' : 'good', ts: slot.ts, ...(slot.error === undefined ? {} : { error: slot.error }) };
  }
}
