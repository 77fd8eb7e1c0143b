// BTHome v2 (bthome.io/format), carried in service data of UUID 0xFCD2. The payload is a device
// information byte (bit 0 encryption, bits 5-7 version = 2) followed by objects: an object id
// byte and a little-endian value whose size and factor the id defines. Lengths are implied by the
// ids, so decoding stops at the first id this table does not know (as the spec tells receivers
// to); what was decoded before it is kept. Encrypted payloads are rejected, not guessed at.
import { FieldgateError } from '../../src/driver-api/index.js';
import type { DecodedAdvertisement, FieldInfo, FieldValue } from './decoded-advertisement.js';

export const BTHOME_SERVICE_UUID = '0000fcd2-0000-1000-8000-00805f9b34fb';

type ObjectSpec =
  | { kind: 'number'; name: string; bytes: 1 | 2 | 3 | 4; signed: boolean; mul: number; div: number; unit: string }
  | { kind: 'binary'; name: string; meaning: string }
  | { kind: 'packet_id'; name: 'packet_id' }
  | { kind: 'button'; name: 'button' }
  | { kind: 'dimmer'; name: 'dimmer' }
  | { kind: 'text' | 'raw'; name: string }
  | { kind: 'firmware'; name: 'firmware_version'; bytes: 3 | 4 };

// factor = mul / div, kept as a fraction so 0x58's 0.35 gives -7.7 rather than -7.699999999999999.
const num = (name: string, bytes: 1 | 2 | 3 | 4, signed: boolean, factor: [number, number], unit: string): ObjectSpec => ({
  kind: 'number', name, bytes, signed, mul: factor[0], div: factor[1], unit,
});
const bin = (name: string, meaning: string): ObjectSpec => ({ kind: 'binary', name, meaning });
const U = false;
const S = true;
const F1: [number, number] = [1, 1];
const F10: [number, number] = [1, 10];
const F100: [number, number] = [1, 100];
const F1000: [number, number] = [1, 1000];

/** Object ids of the BTHome v2 format, with the spec's data types, factors and units. */
export const BTHOME_OBJECTS: ReadonlyMap<number, ObjectSpec> = new Map<number, ObjectSpec>([
  [0x00, { kind: 'packet_id', name: 'packet_id' }],
  [0x01, num('battery', 1, U, F1, '%')],
  [0x02, num('temperature', 2, S, F100, '°C')],
  [0x03, num('humidity', 2, U, F100, '%')],
  [0x04, num('pressure', 3, U, F100, 'hPa')],
  [0x05, num('illuminance', 3, U, F100, 'lx')],
  [0x06, num('mass_kg', 2, U, F100, 'kg')],
  [0x07, num('mass_lb', 2, U, F100, 'lb')],
  [0x08, num('dewpoint', 2, S, F100, '°C')],
  [0x09, num('count', 1, U, F1, '')],
  [0x0a, num('energy', 3, U, F1000, 'kWh')],
  [0x0b, num('power', 3, U, F100, 'W')],
  [0x0c, num('voltage', 2, U, F1000, 'V')],
  [0x0d, num('pm2_5', 2, U, F1, 'µg/m³')],
  [0x0e, num('pm10', 2, U, F1, 'µg/m³')],
  [0x0f, bin('generic_boolean', 'on')],
  [0x10, bin('power_on', 'on')],
  [0x11, bin('opening', 'open')],
  [0x12, num('co2', 2, U, F1, 'ppm')],
  [0x13, num('tvoc', 2, U, F1, 'µg/m³')],
  [0x14, num('moisture', 2, U, F100, '%')],
  [0x15, bin('battery_low', 'battery low')],
  [0x16, bin('battery_charging', 'charging')],
  [0x17, bin('carbon_monoxide', 'detected')],
  [0x18, bin('cold', 'cold')],
  [0x19, bin('connectivity', 'connected')],
  [0x1a, bin('door', 'open')],
  [0x1b, bin('garage_door', 'open')],
  [0x1c, bin('gas_detected', 'gas detected')],
  [0x1d, bin('heat', 'hot')],
  [0x1e, bin('light', 'light detected')],
  [0x1f, bin('lock', 'unlocked')],
  [0x20, bin('moisture_wet', 'wet')],
  [0x21, bin('motion', 'detected')],
  [0x22, bin('moving', 'moving')],
  [0x23, bin('occupancy', 'detected')],
  [0x24, bin('plug', 'plugged in')],
  [0x25, bin('presence', 'home')],
  [0x26, bin('problem', 'problem')],
  [0x27, bin('running', 'running')],
  [0x28, bin('safety', 'safe')],
  [0x29, bin('smoke', 'detected')],
  [0x2a, bin('sound', 'detected')],
  [0x2b, bin('tamper', 'on')],
  [0x2c, bin('vibration', 'detected')],
  [0x2d, bin('window', 'open')],
  [0x2e, num('humidity', 1, U, F1, '%')],
  [0x2f, num('moisture', 1, U, F1, '%')],
  [0x3a, { kind: 'button', name: 'button' }],
  [0x3c, { kind: 'dimmer', name: 'dimmer' }],
  [0x3d, num('count', 2, U, F1, '')],
  [0x3e, num('count', 4, U, F1, '')],
  [0x3f, num('rotation', 2, S, F10, '°')],
  [0x40, num('distance_mm', 2, U, F1, 'mm')],
  [0x41, num('distance_m', 2, U, F10, 'm')],
  [0x42, num('duration', 3, U, F1000, 's')],
  [0x43, num('current', 2, U, F1000, 'A')],
  [0x44, num('speed', 2, U, F100, 'm/s')],
  [0x45, num('temperature', 2, S, F10, '°C')],
  [0x46, num('uv_index', 1, U, F10, '')],
  [0x47, num('volume', 2, U, F10, 'L')],
  [0x48, num('volume_ml', 2, U, F1, 'mL')],
  [0x49, num('volume_flow_rate', 2, U, F1000, 'm³/h')],
  [0x4a, num('voltage', 2, U, F10, 'V')],
  [0x4b, num('gas', 3, U, F1000, 'm³')],
  [0x4c, num('gas', 4, U, F1000, 'm³')],
  [0x4d, num('energy', 4, U, F1000, 'kWh')],
  [0x4e, num('volume', 4, U, F1000, 'L')],
  [0x4f, num('water', 4, U, F1000, 'L')],
  [0x50, num('timestamp', 4, U, F1, 's')],
  [0x51, num('acceleration', 2, U, F1000, 'm/s²')],
  [0x52, num('gyroscope', 2, U, F1000, '°/s')],
  [0x53, { kind: 'text', name: 'text' }],
  [0x54, { kind: 'raw', name: 'raw' }],
  [0x55, num('volume_storage', 4, U, F1000, 'L')],
  [0x56, num('conductivity', 2, U, F1, 'µS/cm')],
  [0x57, num('temperature', 1, S, F1, '°C')],
  [0x58, num('temperature', 1, S, [35, 100], '°C')],
  [0x59, num('count', 1, S, F1, '')],
  [0x5a, num('count', 2, S, F1, '')],
  [0x5b, num('count', 4, S, F1, '')],
  [0x5c, num('power', 4, S, F100, 'W')],
  [0x5d, num('current', 2, S, F1000, 'A')],
  [0x5e, num('direction', 2, U, F100, '°')],
  [0x5f, num('precipitation', 2, U, F1, 'mm')],
  [0xf0, num('device_type_id', 2, U, F1, '')],
  [0xf1, { kind: 'firmware', name: 'firmware_version', bytes: 4 }],
  [0xf2, { kind: 'firmware', name: 'firmware_version', bytes: 3 }],
]);

const BUTTON_EVENTS: ReadonlyMap<number, string> = new Map([
  [0x01, 'press'],
  [0x02, 'double_press'],
  [0x03, 'triple_press'],
  [0x04, 'long_press'],
  [0x05, 'long_double_press'],
  [0x06, 'long_triple_press'],
  [0x80, 'hold_press'],
]);
const DIMMER_EVENTS: ReadonlyMap<number, string> = new Map([
  [0x01, 'rotate_left'],
  [0x02, 'rotate_right'],
]);

export const BTHOME_FIELDS: readonly FieldInfo[] = buildFieldList();
const FIELD_NAMES: ReadonlySet<string> = new Set(BTHOME_FIELDS.map((f) => f.name));

function buildFieldList(): FieldInfo[] {
  const out = new Map<string, FieldInfo>();
  for (const spec of BTHOME_OBJECTS.values()) {
    if (out.has(spec.name)) continue;
    switch (spec.kind) {
      case 'number':
        out.set(spec.name, { name: spec.name, unit: spec.unit, description: 'measurement' });
        break;
      case 'binary':
        out.set(spec.name, { name: spec.name, unit: '', description: `boolean, true = ${spec.meaning}` });
        break;
      case 'packet_id':
        out.set(spec.name, { name: spec.name, unit: '', description: 'packet id; repeats are not republished' });
        break;
      case 'button':
        out.set(spec.name, { name: spec.name, unit: '', description: `event text: ${[...BUTTON_EVENTS.values()].join(', ')}` });
        break;
      case 'dimmer':
        out.set(spec.name, { name: spec.name, unit: '', description: 'event text: rotate_left, rotate_right' });
        out.set('dimmer_steps', { name: 'dimmer_steps', unit: '', description: 'steps of the dimmer event' });
        break;
      case 'text':
        out.set(spec.name, { name: spec.name, unit: '', description: 'UTF-8 text' });
        break;
      case 'raw':
        out.set(spec.name, { name: spec.name, unit: '', description: 'raw bytes as hex text' });
        break;
      case 'firmware':
        out.set(spec.name, { name: spec.name, unit: '', description: 'firmware version text, e.g. 4.2.1.0' });
        break;
    }
  }
  return [...out.values()];
}

export function decodeBthome(data: Uint8Array): DecodedAdvertisement {
  if (data.length < 1) throw decodeError('empty BTHome service data');
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const info = buf.readUInt8(0);
  if (info & 0x01) throw decodeError('encrypted BTHome advertisement (device info bit 0 set); encryption is not supported');
  const version = (info >>> 5) & 0x07;
  if (version !== 2) throw decodeError(`BTHome version ${version} is not supported (only version 2)`);

  const fields: Record<string, FieldValue> = {};
  const seen = new Map<string, number>();
  /** "temperature", then "temperature_2", ... in payload order, as the spec names repeats. */
  const nameFor = (base: string): string => {
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  };
  const problems: string[] = [];
  let dedupeKey: number | undefined;

  let pos = 1;
  while (pos < buf.length) {
    const id = buf.readUInt8(pos);
    const spec = BTHOME_OBJECTS.get(id);
    if (!spec) {
      problems.push(`unknown BTHome object id 0x${hex2(id)} at byte ${pos}; ignored the rest of the packet`);
      break;
    }
    const size = valueSize(spec, buf, pos + 1);
    if (size === undefined || pos + 1 + size > buf.length) {
      problems.push(`BTHome object 0x${hex2(id)} (${spec.name}) at byte ${pos} is truncated`);
      break;
    }
    const value = buf.subarray(pos + 1, pos + 1 + size);
    pos += 1 + size;
    switch (spec.kind) {
      case 'number': {
        const raw = spec.signed ? value.readIntLE(0, spec.bytes) : value.readUIntLE(0, spec.bytes);
        fields[nameFor(spec.name)] = (raw * spec.mul) / spec.div;
        break;
      }
      case 'binary': {
        const name = nameFor(spec.name);
        const b = value.readUInt8(0);
        if (b <= 1) fields[name] = b === 1;
        else problems.push(`BTHome object 0x${hex2(id)} (${spec.name}) has value ${b}, expected 0 or 1`);
        break;
      }
      case 'packet_id':
        fields[nameFor(spec.name)] = value.readUInt8(0);
        dedupeKey ??= value.readUInt8(0);
        break;
      case 'button': {
        const name = nameFor(spec.name);
        const event = value.readUInt8(0);
        if (event === 0) break; // "None": this button has nothing to report
        const text = BUTTON_EVENTS.get(event);
        if (text) fields[name] = text;
        else problems.push(`unknown BTHome button event 0x${hex2(event)}`);
        break;
      }
      case 'dimmer': {
        const name = nameFor(spec.name);
        const event = value.readUInt8(0);
        if (event === 0) break;
        const text = DIMMER_EVENTS.get(event);
        if (text) {
          fields[name] = text;
          fields[`${name}_steps`] = value.readUInt8(1);
        } else {
          problems.push(`unknown BTHome dimmer event 0x${hex2(event)}`);
        }
        break;
      }
      case 'text':
        fields[nameFor(spec.name)] = value.subarray(1).toString('utf8');
        break;
      case 'raw':
        fields[nameFor(spec.name)] = value.subarray(1).toString('hex');
        break;
      case 'firmware':
        fields[nameFor(spec.name)] = [...value].reverse().join('.');
        break;
    }
  }

  const result: DecodedAdvertisement = { fields, unavailable: [] };
  if (dedupeKey !== undefined) result.dedupeKey = dedupeKey;
  if (problems.length > 0) result.problem = problems.join('; ');
  return result;
}

/** Bytes after the object id; undefined when a length prefix is itself missing. */
function valueSize(spec: ObjectSpec, buf: Buffer, at: number): number | undefined {
  switch (spec.kind) {
    case 'number':
      return spec.bytes;
    case 'binary':
    case 'packet_id':
    case 'button':
      return 1;
    case 'dimmer':
      return 2;
    case 'firmware':
      return spec.bytes;
    case 'text':
    case 'raw':
      return at < buf.length ? 1 + buf.readUInt8(at) : undefined;
  }
}

/** Whether `field` can come out of decodeBthome: a known name, or one with a repeat suffix (_2, _3...). */
export function isBthomeField(field: string): boolean {
  if (FIELD_NAMES.has(field)) return true;
  const steps = /^dimmer_(\d+)_steps$/.exec(field);
  if (steps) return Number(steps[1]) >= 2;
  const m = /^(.+)_(\d+)$/.exec(field);
  return m !== null && FIELD_NAMES.has(m[1]!) && Number(m[2]) >= 2 && m[1] !== 'dimmer_steps';
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function decodeError(message: string): FieldgateError {
  return new FieldgateError('decode', message);
}
