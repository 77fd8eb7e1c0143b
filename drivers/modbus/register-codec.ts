// Pure conversions between Modbus registers (16-bit words as received) and values.
//
// Byte order letters name the bytes of a 32-bit value, A the most significant: ABCD is big-endian
// (register n holds AB, register n+1 holds CD). The letters encode two independent swaps, which is
// how they generalise to every width:
//   CDAB  word order reversed (low word first)       BADC  bytes swapped inside each word
//   DCBA  both
// So a 64-bit value ABCDEFGH is ABCDEFGH / GHEFCDAB / BADCFEHG / HGFEDCBA on the wire; a 16-bit
// value is only affected by the byte swap; a string only by the byte swap (characters stay in
// reading order).
import { quoteValue, toExactInteger, toFiniteNumber, unsafeCommandChar, type Scalar } from '../../src/driver-api/index.js';
import type { ByteOrder, DataType } from './schema.js';

export interface ValueSpec {
  type: DataType;
  order: ByteOrder;
  /** A single bit of a 16-bit register (0 = least significant), decoded as bool. */
  bit?: number;
  /** string: registers. */
  length?: number;
}

const WIDTH: Record<Exclude<DataType, 'string'>, number> = {
  bool: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, int64: 4, uint64: 4, float64: 4,
};

const INT_RANGE: Partial<Record<DataType, [bigint, bigint]>> = {
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const FLOAT32_MAX = 3.4028234663852886e38;

/** Registers a value of this type occupies (a bool in a coil table counts one bit). */
export function registerCount(spec: Pick<ValueSpec, 'type' | 'length'>): number {
  return spec.type === 'string' ? (spec.length ?? 1) : WIDTH[spec.type];
}

const wordsReversed = (order: ByteOrder) => order === 'CDAB' || order === 'DCBA';
const bytesSwapped = (order: ByteOrder) => order === 'BADC' || order === 'DCBA';

/** Registers as received → bytes in big-endian (ABCD…) order. */
export function registersToBytes(regs: ArrayLike<number>, order: ByteOrder, keepWordOrder = false): Buffer {
  const n = regs.length;
  const out = Buffer.alloc(n * 2);
  const reverse = wordsReversed(order) && !keepWordOrder;
  for (let i = 0; i < n; i++) {
    const word = regs[reverse ? n - 1 - i : i]! & 0xffff;
    if (bytesSwapped(order)) out.writeUInt16LE(word, i * 2);
    else out.writeUInt16BE(word, i * 2);
  }
  return out;
}

/** Bytes in big-endian order → registers as they go on the wire. */
export function bytesToRegisters(bytes: Buffer, order: ByteOrder, keepWordOrder = false): number[] {
  const n = bytes.length / 2;
  const regs = new Array<number>(n);
  const reverse = wordsReversed(order) && !keepWordOrder;
  for (let i = 0; i < n; i++) {
    const word = bytesSwapped(order) ? bytes.readUInt16LE(i * 2) : bytes.readUInt16BE(i * 2);
    regs[reverse ? n - 1 - i : i] = word;
  }
  return regs;
}

/** 64-bit integers stay numbers while exact, and become bigint beyond 2^53. */
function narrow(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/** Device strings are NUL-padded or NUL-terminated (often with junk behind), or space-padded. */
export function decodeString(bytes: Buffer): string {
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  let end = bytes.indexOf(0, start);
  if (end < 0) end = bytes.length;
  return bytes.toString('utf8', start, end).replace(/ +$/, '');
}

/** One register as a big-endian word, its bytes swapped when the order says so. */
function wordAt(regs: ArrayLike<number>, i: number, order: ByteOrder): number {
  const w = regs[i]! & 0xffff;
  return bytesSwapped(order) ? ((w & 0xff) << 8) | (w >> 8) : w;
}

/**
 * Decodes the registers of one value: registerCount of them, starting at `at` (so a poll's answer
 * need not be cut into a copy per point). The 16- and 32-bit integer types, which most meters
 * use, are decoded from the words directly; the others through a byte buffer.
 */
export function decodeRegisters(regs: ArrayLike<number>, spec: ValueSpec, at = 0): Scalar {
  const { type, order } = spec;
  if (type === 'string') return decodeString(registersToBytes(window(regs, at, spec.length ?? 1), order, true));
  const width = WIDTH[type];
  if (width === 1) {
    const w = wordAt(regs, at, order);
    if (spec.bit !== undefined) return ((w >> spec.bit) & 1) === 1;
    if (type === 'bool') return w !== 0;
    if (type === 'int16') return (w << 16) >> 16;
    if (type === 'uint16') return w;
  } else if (width === 2 && (type === 'int32' || type === 'uint32')) {
    const reverse = wordsReversed(order);
    const hi = wordAt(regs, reverse ? at + 1 : at, order);
    const lo = wordAt(regs, reverse ? at : at + 1, order);
    return type === 'int32' ? ((hi << 16) | lo) : hi * 0x10000 + lo;
  }
  const b = registersToBytes(window(regs, at, width), order);
  if (spec.bit !== undefined) return ((b.readUInt16BE(0) >> spec.bit) & 1) === 1;
  switch (type) {
    case 'bool':
      return b.readUInt16BE(0) !== 0;
    case 'int16':
      return b.readInt16BE(0);
    case 'uint16':
      return b.readUInt16BE(0);
    case 'int32':
      return b.readInt32BE(0);
    case 'uint32':
      return b.readUInt32BE(0);
    case 'float32':
      return shortestFloat32(b.readFloatBE(0));
    case 'int64':
      return narrow(b.readBigInt64BE(0));
    case 'uint64':
      return narrow(b.readBigUInt64BE(0));
    case 'float64':
      return b.readDoubleBE(0);
  }
}

function window(regs: ArrayLike<number>, at: number, n: number): ArrayLike<number> {
  if (at === 0 && regs.length === n) return regs;
  return Array.prototype.slice.call(regs, at, at + n) as number[];
}

/** A whole number, exactly as sent (the shared command rule: no tolerance, no rounding). */
export function toInteger(value: Scalar): bigint {
  return toExactInteger(value);
}

/** A boolean from true/false or 1/0 (what MQTT commands usually carry). */
export function toBoolean(value: Scalar): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 1n) return true;
  if (value === 0 || value === 0n) return false;
  throw new TypeError(`expected a boolean (true/false or 1/0), got ${quoteValue(String(value))}`);
}

/**
 * Encodes a value into the registers it occupies, in wire order. Throws RangeError/TypeError for
 * values that do not fit the type; nothing is ever truncated or wrapped.
 */
export function encodeValue(value: Scalar, spec: ValueSpec): number[] {
  if (spec.bit !== undefined || spec.type === 'bool') {
    throw new TypeError('bit and bool values are written as coils or by read-modify-write, not encoded');
  }
  if (spec.type === 'string') {
    if (typeof value !== 'string') throw new TypeError(`expected a string, got ${typeof value}`);
    const size = registerCount(spec) * 2;
    const text = Buffer.from(value, 'utf8');
    if (text.length > size) throw new RangeError(`string of ${text.length} bytes does not fit ${size} bytes`);
    const unsafe = unsafeCommandChar(value);
    if (unsafe) throw new RangeError(`string contains the control or format character ${unsafe}`);
    const bytes = Buffer.alloc(size);
    text.copy(bytes);
    return bytesToRegisters(bytes, spec.order, true);
  }
  const bytes = Buffer.alloc(WIDTH[spec.type] * 2);
  if (spec.type === 'float32' || spec.type === 'float64') {
    const n = toFiniteNumber(value);
    if (spec.type === 'float32') {
      if (Math.abs(n) > FLOAT32_MAX) throw new RangeError(`${n} is outside the float32 range`);
      bytes.writeFloatBE(n, 0);
    } else {
      bytes.writeDoubleBE(n, 0);
    }
    return bytesToRegisters(bytes, spec.order);
  }
  const v = toInteger(value);
  const [lo, hi] = INT_RANGE[spec.type]!;
  if (v < lo || v > hi) throw new RangeError(`${quoteValue(v)} is outside the ${spec.type} range ${lo}..${hi}`);
  switch (spec.type) {
    case 'int16':
      bytes.writeInt16BE(Number(v), 0);
      break;
    case 'uint16':
      bytes.writeUInt16BE(Number(v), 0);
      break;
    case 'int32':
      bytes.writeInt32BE(Number(v), 0);
      break;
    case 'uint32':
      bytes.writeUInt32BE(Number(v), 0);
      break;
    case 'int64':
      bytes.writeBigInt64BE(v, 0);
      break;
    case 'uint64':
      bytes.writeBigUInt64BE(v, 0);
      break;
  }
  return bytesToRegisters(bytes, spec.order);
}

/** The register with one bit set or cleared (read-modify-write of a bit point). */
export function withBit(register: number, bit: number, on: boolean, order: ByteOrder): number {
  const value = decodeRegisters([register], { type: 'uint16', order }) as number;
  const next = on ? (Number(value) | (1 << bit)) : (Number(value) & ~(1 << bit));
  return encodeValue(next & 0xffff, { type: 'uint16', order })[0]!;
}

/**
 * The shortest decimal that is the same float32 as `x`. A device holding 230.3f holds
 * 230.300064086914… as a double; publishing every digit of that would claim precision the
 * register never had. The result converts back to exactly the same float32 (Math.fround).
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  for (let digits = 6; digits <= 9; digits++) {
    const candidate = Number(x.toPrecision(digits));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}
