// Turns driver readings into journal entries: scaling, report-by-exception, topic and payload.
// Compiled once per device; the per-reading path does no template or config work.
// With `payload: batch` one poll becomes one entry on the device topic (plus, once per mapper,
// the retained `<device topic>/meta` entry); per-point topics then only serve commands.
import type { DeviceConfigBase, PointConfigBase, Reading, Scalar } from '../driver-api/index.js';
import type { NewEntry, Qos } from '../journal/journal.js';
import { parseDuration } from '../util/duration.js';
import { compileTemplate, topicVariables } from './template.js';
import { SITE_DEFAULTS } from '../config/defaults.js';
import { FieldgateError } from '../util/errors.js';
import { PointFilter } from './point-filter.js';
import { JsonPointEntry, jsonPointHead, jsonPointTail, payloadRenderer, valueJson, type PayloadEncoding, type PayloadFormat } from './payload.js';
import { batchJsonRenderer, batchRenderer, metaRenderer } from './batch-payload.js';
import { IsoTimeFormatter } from './iso-time.js';
import { PositionalLookup } from '../util/positional-lookup.js';
import { CborCodec } from '../wire/cbor-codec.js';

import type { MappingDefaults } from '../config/resolved-site.js';

export type { MappingDefaults } from '../config/resolved-site.js';


// What the per-reading path needs of a point is copied here once: the point configs come out of the
// site-file loader in many hidden classes, so V8 reads them megamorphically (its IC log showed
// `name` and `unit` as such), while every CompiledPoint has the same shape.
export interface CompiledPoint {
  readonly config: PointConfigBase;
  readonly name: string;
  readonly unit: string | undefined;
  readonly topic: string;
  readonly qos: Qos;
  readonly retain: boolean;
  readonly format: PayloadFormat;
  readonly filter: PointFilter;
  readonly scale: number;
  readonly offset: number;
  /** `"name":`, the point's member prefix in a JSON batch payload. */
  readonly jsonKey: string;
  /** The end of this point's JSON payload when the reading is good (jsonPointTail). */
  readonly jsonTail: string;
}

export function templateVars(defaults: MappingDefaults, device: DeviceConfigBase, point?: string): Record<string, string> {
  return topicVariables(defaults, device, point);
}

export function pointTopic(defaults: MappingDefaults, device: DeviceConfigBase, point: PointConfigBase): string {
  // A batch device's own `topic` names its batch message, not its points.
  const deviceTopic = formatOf(defaults, device) === 'batch' ? undefined : device.topic;
  const source = point.topic ?? deviceTopic ?? defaults.topic;
  return compileTemplate(source).render(templateVars(defaults, device, point.name));
}

/** The topic a batch device publishes its polls on; `/meta` is appended for the meta message. */
export function batchTopic(defaults: MappingDefaults, device: DeviceConfigBase): string {
  return compileTemplate(device.topic ?? SITE_DEFAULTS.batch_topic).render(templateVars(defaults, device));
}

export function formatOf(defaults: MappingDefaults, device: DeviceConfigBase): PayloadFormat {
  return device.payload ?? defaults.payload;
}

export function encodingOf(defaults: MappingDefaults, device: DeviceConfigBase): PayloadEncoding {
  return (device.payload_encoding as PayloadEncoding | undefined) ?? defaults.encoding;
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

interface BatchPlan {
  topic: string;
  qos: Qos;
}

export class DeviceMapper {
  readonly points = new Map<string, CompiledPoint>();
  readonly format: PayloadFormat;
  readonly encoding: PayloadEncoding;
  private readonly batch: BatchPlan | undefined;
  private readonly cbor: CborCodec | undefined;
  private readonly byPosition = new PositionalLookup(this.points, (p) => p.name);
  private metaDue: boolean;
  /** All readings of a poll share one time: formatted once per poll, the date once per hour. */
  private readonly iso = new IsoTimeFormatter();

  constructor(
    readonly device: DeviceConfigBase,
    defaults: MappingDefaults,
  ) {
    const format = formatOf(defaults, device);
    this.format = format;
    this.encoding = encodingOf(defaults, device);
    // Validation refuses this combination (payload-checks.ts); reaching it here is a bug, not a
    // setting to correct quietly.
    if (format === 'value' && this.encoding === 'cbor') {
      throw new FieldgateError('mapping_config', `device ${device.name}: payload: value cannot be sent as cbor`);
    }
    this.cbor = this.encoding === 'cbor' ? new CborCodec() : undefined;
    for (const p of device.points) {
      this.points.set(p.name, {
        config: p,
        name: p.name,
        unit: p.unit,
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
        jsonKey: `${JSON.stringify(p.name)}:`,
        jsonTail: jsonPointTail(p.unit, undefined),
      });
    }
    // One message carries every point, so it goes with the strictest QoS any of them asks for.
    let qos = 0 as Qos;
    for (const p of this.points.values()) qos = Math.max(qos, p.qos) as Qos;
    this.batch = format === 'batch' ? { topic: batchTopic(defaults, device), qos } : undefined;
    this.metaDue = this.batch !== undefined;
  }

  /** The batch topic, when this device publishes batches. */
  get batchTopic(): string | undefined {
    return this.batch?.topic;
  }

  /**
   * Entries to journal for these readings. `force` publishes regardless of deadband (read-back
   * after a command). Readings for unknown points are ignored and reported in `unknown`.
   */
  map(readings: readonly Reading[], now: number, force = false): { entries: NewEntry[]; unknown: string[] } {
    if (this.batch) return this.mapBatch(this.batch, readings, now, force);
    const entries: NewEntry[] = [];
    const unknown: string[] = [];
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      const p = this.byPosition.at(i, r.point);
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
      if (!p.filter.accept(value, bad, error, ts, force)) continue;
      if (p.format === 'json' && this.encoding === 'json') {
        const tail = error === undefined ? p.jsonTail : jsonPointTail(p.unit, error);
        entries.push(new JsonPointEntry(ts, p.topic, p.qos, p.retain, jsonPointHead(value, this.iso.format(ts)), tail));
        continue;
      }
      entries.push({
        ts,
        topic: p.topic,
        qos: p.qos,
        retain: p.retain,
        encoding: p.format === 'value' ? 'text' : this.encoding,
        render: payloadRenderer(p.format as 'json' | 'value', { value, ts, unit: p.unit, error }, this.encoding, this.cbor),
      });
    }
    return { entries, unknown };
  }

  private mapBatch(batch: BatchPlan, readings: readonly Reading[], now: number, force: boolean): { entries: NewEntry[]; unknown: string[] } {
    const entries: NewEntry[] = [];
    const unknown: string[] = [];
    if (this.metaDue) {
      this.metaDue = false;
      entries.push(this.metaEntry(batch, now));
    }
    // JSON: the values are rendered as they are accepted; CBOR keeps them as pairs for its codec.
    const json = this.encoding === 'json';
    const values: [string, Scalar | null][] = [];
    let members = '';
    let count = 0;
    const errors: [string, string][] = [];
    let ts = Number.POSITIVE_INFINITY;
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      const p = this.byPosition.at(i, r.point);
      if (!p) {
        unknown.push(r.point);
        continue;
      }
      const readingTs = r.ts ?? now;
      const bad = r.quality === 'bad' || r.value === null;
      const value = bad || r.value === null ? null : scaleValue(r.value, p.scale, p.offset);
      const error = bad ? (r.error ?? 'no value') : undefined;
      if (!p.filter.accept(value, bad, error, readingTs, force)) continue;
      if (error !== undefined) errors.push([r.point, error]);
      else if (json) members += (count++ === 0 ? '' : ',') + p.jsonKey + valueJson(value);
      else values.push([r.point, value]);
      // One poll, one time: when the poll started (its earliest reading).
      ts = Math.min(ts, readingTs);
    }
    if (count + values.length + errors.length > 0) {
      entries.push({
        ts,
        topic: batch.topic,
        qos: batch.qos,
        retain: false,
        encoding: this.encoding,
        render: json ? batchJsonRenderer(this.iso.format(ts), members, errors) : batchRenderer(this.encoding, { ts, values, errors }, this.cbor),
      });
    }
    return { entries, unknown };
  }

  private metaEntry(batch: BatchPlan, now: number): NewEntry {
    const points = [...this.points.values()].map((p) => ({
      name: p.config.name,
      unit: p.config.unit,
      commandTopic: p.config.writable === true ? `${p.topic}/set` : undefined,
    }));
    return {
      ts: now,
      topic: `${batch.topic}/meta`,
      qos: batch.qos,
      retain: true,
      encoding: this.encoding,
      render: metaRenderer(this.encoding, { ts: now, device: this.device.name, ...profileOf(this.device), points }, this.cbor),
    };
  }
}

/** The profile a device was built from, as the meta message names it. */
export function profileOf(device: DeviceConfigBase): { profile?: { name: string; version?: string } } {
  if (device.profile === undefined) return {};
  return { profile: { name: device.profile, ...(device.profile_version === undefined ? {} : { version: device.profile_version }) } };
}
