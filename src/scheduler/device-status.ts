// What the status page shows of one device: the last reading of every point (whether or not it
// was published: deadband and heartbeat decide that, not this), polls, faults by kind and the last
// fault. Fixed size per device (one slot per point), so it costs nothing per reading.
import type { PointConfigBase, Reading } from '../driver-api/index.js';
import { errorText } from '../util/errors.js';
import { scaleValue } from '../mapping/reading-mapper.js';

export interface LastReading {
  value: unknown;
  quality: 'good' | 'bad';
  error?: string;
  ts: number;
}

export class DeviceStatusRecorder {
  polls = 0;
  readonly errors: Record<string, number> = Object.create(null) as Record<string, number>;
  lastError: { text: string; at: number } | undefined;
  /** When a good value of any point last arrived (a trial of a new site file waits for one). */
  lastGoodAt: number | undefined;
  private readonly last = new Map<string, LastReading>();
  private readonly points: Map<string, { scale: number; offset: number }>;

  constructor(points: readonly PointConfigBase[]) {
    this.points = new Map(points.map((p) => [p.name, { scale: p.scale ?? 1, offset: p.offset ?? 0 }]));
  }

  polled(): void {
    this.polls += 1;
  }

  /** Keeps the last reading of each configured point, in engineering units (scale and offset applied). */
  readings(readings: readonly Reading[], now: number): void {
    for (const r of readings) {
      // Only configured points: a driver reporting others is logged elsewhere, not remembered.
      const point = this.points.get(r.point);
      if (!point) continue;
      const quality = r.quality === 'bad' || r.value === null ? 'bad' : 'good';
      if (quality === 'good') this.lastGoodAt = now;
      const value = r.value === null ? null : scaleValue(r.value, point.scale, point.offset);
      this.last.set(r.point, { value, quality, ts: r.ts ?? now, ...(r.error === undefined ? {} : { error: r.error }) });
    }
  }

  fault(kind: string, err: unknown, at: number): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    this.lastError = { text: errorText(err), at };
  }

  lastOf(point: string): LastReading | undefined {
    return this.last.get(point);
  }
}
