// Characteristic values <-> raw point values. Pure functions: the GATT link calls them, the unit
// tests cover every type. Decoding never invents a value: a short buffer or a non-finite float is
// an error for the caller to report.
import {
  CommandError, FieldgateError, quoteValue, toFiniteNumber, toIntegerIn, unsafeCommandChar, type Scalar,
} from '../../src/driver-api/index.js';

export const VALUE_TYPES = [
  'uint8',
  'int8',
  'uint16le',
  'uint16be',
  'int16le',
  'int16be',
  'uint32le',
  'uint32be',
  'int32le',
  'int32be',
  'float32le',
  'float32be',
  'utf8',
] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

interface NumericLayout {
  size: number;
  read(buf: Buffer, offset: number): number;
  write(buf: Buffer, value: number): void;
  min: number;
  max: number;
  integer: boolean;
}

const FLOAT32_MAX = 3.4028234663852886e38;

const LAYOUTS: Record<Exclude<ValueType, 'utf8'>, NumericLayout> = {
  uint8: { size: 1, read: (b, o) => b.readUInt8(o), write: (b, v) => b.writeUInt8(v), min: 0, max: 0xff, integer: true },
  int8: { size: 1, read: (b, o) => b.readInt8(o), write: (b, v) => b.writeInt8(v), min: -0x80, max: 0x7f, integer: true },
  uint16le: { size: 2, read: (b, o) => b.readUInt16LE(o), write: (b, v) => b.writeUInt16LE(v), min: 0, max: 0xffff, integer: true },
  uint16be: { size: 2, read: (b, o) => b.readUInt16BE(o), write: (b, v) => b.writeUInt16BE(v), min: 0, max: 0xffff, integer: true },
  int16le: { size: 2, read: (b, o) => b.readInt16LE(o), write: (b, v) => b.writeInt16LE(v), min: -0x8000, max: 0x7fff, integer: true },
  int16be: { size: 2, read: (b, o) => b.readInt16BE(o), write: (b, v) => b.writeInt16BE(v), min: -0x8000, max: 0x7fff, integer: true },
  uint32le: { size: 4, read: (b, o) => b.readUInt32LE(o), write: (b, v) => b.writeUInt32LE(v), min: 0, max: 0xffffffff, integer: true },
  uint32be: { size: 4, read: (b, o) => b.readUInt32BE(o), write: (b, v) => b.writeUInt32BE(v), min: 0, max: 0xffffffff, integer: true },
  int32le: { size: 4, read: (b, o) => b.readInt32LE(o), write: (b, v) => b.writeInt32LE(v), min: -0x80000000, max: 0x7fffffff, integer: true },
  int32be: { size: 4, read: (b, o) => b.readInt32BE(o), write: (b, v) => b.writeInt32BE(v), min: -0x80000000, max: 0x7fffffff, integer: true },
  float32le: { size: 4, read: (b, o) => b.readFloatLE(o), write: (b, v) => b.writeFloatLE(v), min: -FLOAT32_MAX, max: FLOAT32_MAX, integer: false },
  float32be: { size: 4, read: (b, o) => b.readFloatBE(o), write: (b, v) => b.writeFloatBE(v), min: -FLOAT32_MAX, max: FLOAT32_MAX, integer: false },
};

/** Largest value one ATT attribute can hold (Core spec, Vol 3 Part F 3.2.9). */
export const MAX_ATTRIBUTE_BYTES = 512;

/** Bytes a type occupies; undefined for utf8 (the rest of the value). */
export function typeSize(type: ValueType): number | undefined {
  return type === 'utf8' ? undefined : LAYOUTS[type].size;
}

/** Decodes the value of `type` found at `offset` in a characteristic value. Throws FieldgateError('decode'). */
export function decodeValue(type: ValueType, buf: Buffer, offset = 0): number | string {
  if (type === 'utf8') {
    if (offset > buf.length) throw decodeError(`value has ${buf.length} bytes, utf8 text starts at byte ${offset}`);
    // Fixed-size string characteristics pad with NULs; they are not part of the text.
    return buf.subarray(offset).toString('utf8').replace(/\0+$/, '');
  }
  const layout = LAYOUTS[type];
  if (buf.length < offset + layout.size) {
    throw decodeError(`value has ${buf.length} bytes, ${type} at byte ${offset} needs ${offset + layout.size}`);
  }
  const value = layout.read(buf, offset);
  if (!Number.isFinite(value)) throw decodeError(`${type} value is ${value}, not a finite number`);
  return value;
}

/**
 * Encodes a raw value for a write. Throws CommandError for values the type cannot carry, so the
 * core can answer the command without touching the device.
 */
export function encodeValue(type: ValueType, value: Scalar): Buffer {
  if (type === 'utf8') {
    const text = typeof value === 'string' ? value : String(value);
    const buf = Buffer.from(text, 'utf8');
    if (buf.length > MAX_ATTRIBUTE_BYTES) {
      throw new CommandError('invalid_value', `text is ${buf.length} bytes, a characteristic holds at most ${MAX_ATTRIBUTE_BYTES}`);
    }
    const unsafe = unsafeCommandChar(text);
    if (unsafe) throw new CommandError('invalid_value', `text contains the control or format character ${unsafe}`);
    return buf;
  }
  const layout = LAYOUTS[type];
  // Booleans are 1/0 (switch characteristics); everything else follows the shared number rule.
  const input = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  let n: number;
  try {
    n = layout.integer ? Number(toIntegerIn(input, BigInt(layout.min), BigInt(layout.max), type)) : toFiniteNumber(input);
  } catch (err) {
    throw new CommandError('invalid_value', `${type}: ${(err as Error).message}`, { cause: err });
  }
  if (n < layout.min || n > layout.max) {
    throw new CommandError('invalid_value', `${quoteValue(value)} is outside the ${type} range ${layout.min}..${layout.max}`);
  }
  const buf = Buffer.alloc(layout.size);
  layout.write(buf, n);
  return buf;
}

function decodeError(message: string): FieldgateError {
  return new FieldgateError('decode', message);
}
