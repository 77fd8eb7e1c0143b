// Turns driver readings into journal entries: scaling, report-by-exception, topic and payload.
// Compiled once per device; the per-reading path does no template or config work.
import type { DeviceConfigBase, PointConfigBase, Reading, Scalar } from '../driver-api/index.js';
import type { NewEntry, Qos } from '../journal/journal.js';
import { parseDuration } from '../util/duration.js';
import { compileTemplate } from './template.js';
import { PointFilter } from './point-filter.js';
import { payloadRenderer, type PayloadFormat } from './payload.js';

export interface MappingDefaults {
  site: string;
  gateway: string;
  topic: string;
  payload: PayloadFormat;
  qos: Qos;
}

export interface CompiledPoint {
  readonly config: PointConfigBase;
  readonly topic: string;
  readonly qos: Qos;
  readonly retain: boolean;
  readonly format: PayloadFormat;
  readonly filter: PointFilter;
  readonly scale: number;
  readonly offset: number;
}

export function templateVars(defaults: MappingDefaults, device: DeviceConfigBase, point?: string): Record<string, string> {
  const vars: Record<string, string> = { ...(device.tags ?? {}), site: defaults.site, gateway: defaults.gateway, device: device.name };
  if (point !== undefined) vars.point = point;
  return vars;
}

export function pointTopic(defaults: MappingDefaults, device: DeviceConfigBase, point: PointConfigBase): string {
  const source = point.topic ?? device.topic ?? defaults.topic;
  return compileTemplate(source).render(templateVars(defaults, device, point.name));
}

/** Applies value = raw × scale + offset to numbers; other types pass through unchanged. */
export function scaleValue(raw: Scalar, scale: number, offset: number): Scalar {
  if (scale === 1 && offset === 0) return raw;
  if (typeof raw !== 'number' && typeof raw !== 'bigint') return raw;
  const product = Number(raw) * scale;
  return roundAt(product + offset, Math.max(Math.abs(product), Math.abs(offset)));
}

/** Inverse of scaleValue, for commands: the raw value the device must hold to show `value`. */
export function unscaleValue(value: number, scale: number, offset: number): number {
  if (scale === 1 && offset === 0) return value;
  return roundAt((value - offset) / scale, Math.max(Math.abs(value), Math.abs(offset)) / Math.abs(scale));
}

// 0.1 × 2317 is 231.70000000000002 in binary floating point; users expect 231.7. Rounding to 15
// significant digits of the operands (not of the result) removes that noise without eating real
// digits of large counters, and also cleans results where value and offset nearly cancel.
function roundAt(x: number, magnitude: number): number {
  if (Number.isInteger(x) || !Number.isFinite(x) || magnitude === 0) return x;
  const decimals = 14 - Math.floor(Math.log10(magnitude));
  if (decimals <= 0 || decimals > 100) return x;
  return Number(x.toFixed(decimals));
}

export class DeviceMapper {
  readonly points = new Map<string, CompiledPoint>();

  constructor(
    readonly device: DeviceConfigBase,
    defaults: MappingDefaults,
  ) {
    const format = device.payload ?? defaults.payload;
    for (const p of device.points) {
      this.points.set(p.name, {
        config: p,
        topic: pointTopic(defaults, device, p),
        qos: p.qos ?? defaults.qos,
        retain: p.retain ?? false,
        format,
        filter: new PointFilter({
          deadband: p.deadband,
          heartbeatMs: p.heartbeat === undefined ? undefined : parseDuration(p.heartbeat),
        }),
        scale: p.scale ?? 1,
        offset: p.offset ?? 0,
      });
    }
  }

  /**
   * Entries to journal for these readings. `force` publishes regardless of deadband (read-back
   * after a command). Readings for unknown points are ignored and reported in `unknown`.
   */
  map(readings: readonly Reading[], now: number, force = false): { entries: NewEntry[]; unknown: string[] } {
    const entries: NewEntry[] = [];
    const unknown: string[] = [];
    for (const r of readings) {
      const p = this.points.get(r.point);
      if (!p) {
        unknown.push(r.point);
        continue;
      }
      const ts = r.ts ?? now;
      const bad = r.quality === 'bad' || r.value === null;
      const value = bad || r.value === null ? null : scaleValue(r.value, p.scale, p.offset);
      const error = bad ? (r.error ?? 'no value') : undefined;
      // A bare-value payload has no room for a quality flag, and an empty retained payload would
      // erase the last good value at the broker: faults show in logs and metrics instead.
      if (bad && p.format === 'value') continue;
      if (!p.filter.accept({ value, bad, error, ts }, force)) continue;
      entries.push({
        ts,
        topic: p.topic,
        qos: p.qos,
        retain: p.retain,
        render: payloadRenderer(p.format, { value, ts, unit: p.config.unit, error }),
      });
    }
    return { entries, unknown };
  }
}
