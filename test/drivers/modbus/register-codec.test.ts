import fc from 'fast-check';
import { CommandError } from '../../../src/driver-api/index.js';
import { describe, expect, it } from 'vitest';
import {
  decodeRegisters, decodeString, encodeValue, registerCount, toBoolean, toInteger, withBit, type ValueSpec,
} from '../../../drivers/modbus/register-codec.js';
import { ORDERS, type ByteOrder, type DataType } from '../../../drivers/modbus/schema.js';

type Vector = { type: DataType; value: number | bigint | string; wire: Record<ByteOrder, number[]>; length?: number };

// Wire images written out by hand from the byte-order definition (A = most significant byte), and
// cross-checked against pymodbus's BinaryPayloadBuilder in pymodbus.test.ts.
const VECTORS: Vector[] = [
  { type: 'uint16', value: 0x1234, wire: { ABCD: [0x1234], CDAB: [0x1234], BADC: [0x3412], DCBA: [0x3412] } },
  { type: 'int16', value: -2, wire: { ABCD: [0xfffe], CDAB: [0xfffe], BADC: [0xfeff], DCBA: [0xfeff] } },
  { type: 'int16', value: 300, wire: { ABCD: [0x012c], CDAB: [0x012c], BADC: [0x2c01], DCBA: [0x2c01] } },
  {
    type: 'uint32', value: 0x11223344,
    wire: { ABCD: [0x1122, 0x3344], CDAB: [0x3344, 0x1122], BADC: [0x2211, 0x4433], DCBA: [0x4433, 0x2211] },
  },
  {
    type: 'int32', value: -2,
    wire: { ABCD: [0xffff, 0xfffe], CDAB: [0xfffe, 0xffff], BADC: [0xffff, 0xfeff], DCBA: [0xfeff, 0xffff] },
  },
  {
    type: 'int32', value: -123456789, // 0xF8A432EB
    wire: { ABCD: [0xf8a4, 0x32eb], CDAB: [0x32eb, 0xf8a4], BADC: [0xa4f8, 0xeb32], DCBA: [0xeb32, 0xa4f8] },
  },
  {
    type: 'float32', value: 1.5, // 0x3FC00000
    wire: { ABCD: [0x3fc0, 0x0000], CDAB: [0x0000, 0x3fc0], BADC: [0xc03f, 0x0000], DCBA: [0x0000, 0xc03f] },
  },
  {
    type: 'float32', value: -230.5, // 0xC3668000
    wire: { ABCD: [0xc366, 0x8000], CDAB: [0x8000, 0xc366], BADC: [0x66c3, 0x0080], DCBA: [0x0080, 0x66c3] },
  },
  {
    type: 'uint64', value: 0x0102030405060708n,
    wire: {
      ABCD: [0x0102, 0x0304, 0x0506, 0x0708], CDAB: [0x0708, 0x0506, 0x0304, 0x0102],
      BADC: [0x0201, 0x0403, 0x0605, 0x0807], DCBA: [0x0807, 0x0605, 0x0403, 0x0201],
    },
  },
  {
    type: 'uint64', value: 1_000_000, // fits a double: a number, not a bigint
    wire: {
      ABCD: [0, 0, 0x000f, 0x4240], CDAB: [0x4240, 0x000f, 0, 0],
      BADC: [0, 0, 0x0f00, 0x4042], DCBA: [0x4042, 0x0f00, 0, 0],
    },
  },
  {
    type: 'int64', value: -3n * 2n ** 60n, // 0xD000000000000000
    wire: {
      ABCD: [0xd000, 0, 0, 0], CDAB: [0, 0, 0, 0xd000], BADC: [0x00d0, 0, 0, 0], DCBA: [0, 0, 0, 0x00d0],
    },
  },
  {
    type: 'int64', value: -3, // 0xFFFFFFFFFFFFFFFD
    wire: {
      ABCD: [0xffff, 0xffff, 0xffff, 0xfffd], CDAB: [0xfffd, 0xffff, 0xffff, 0xffff],
      BADC: [0xffff, 0xffff, 0xffff, 0xfdff], DCBA: [0xfdff, 0xffff, 0xffff, 0xffff],
    },
  },
  {
    type: 'float64', value: 1.5, // 0x3FF8000000000000
    wire: { ABCD: [0x3ff8, 0, 0, 0], CDAB: [0, 0, 0, 0x3ff8], BADC: [0xf83f, 0, 0, 0], DCBA: [0, 0, 0, 0xf83f] },
  },
  {
    type: 'string', value: 'AB C', length: 3,
    wire: { ABCD: [0x4142, 0x2043, 0], CDAB: [0x4142, 0x2043, 0], BADC: [0x4241, 0x4320, 0], DCBA: [0x4241, 0x4320, 0] },
  },
];

describe('register codec: known vectors, every type × order', () => {
  const cases = VECTORS.flatMap((v) => ORDERS.map((order) => ({ ...v, order, regs: v.wire[order] })));
  it.each(cases)('$type $value $order', ({ type, value, order, regs, length }) => {
    const spec: ValueSpec = { type, order, ...(length ? { length } : {}) };
    expect(registerCount(spec)).toBe(regs.length);
    expect(decodeRegisters(regs, spec)).toEqual(value);
    expect(encodeValue(value, spec)).toEqual(regs);
  });

  it('decodes 64-bit integers as bigint only beyond 2^53', () => {
    const max = [0x0020, 0, 0, 0]; // 2^53
    expect(decodeRegisters([0x001f, 0xffff, 0xffff, 0xffff], { type: 'uint64', order: 'ABCD' })).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeRegisters(max, { type: 'uint64', order: 'ABCD' })).toBe(2n ** 53n);
    expect(decodeRegisters([0xffe0, 0, 0, 1], { type: 'int64', order: 'ABCD' })).toBe(Number.MIN_SAFE_INTEGER);
    expect(decodeRegisters([0xffe0, 0, 0, 0], { type: 'int64', order: 'ABCD' })).toBe(-(2n ** 53n));
    expect(decodeRegisters([0xffff, 0xffff, 0xffff, 0xffff], { type: 'uint64', order: 'ABCD' })).toBe(2n ** 64n - 1n);
  });
});

describe('strings', () => {
  const regsOf = (s: string) => encodeValue(s, { type: 'string', order: 'ABCD', length: 8 });
  it('trims NUL padding and trailing spaces, keeps leading spaces', () => {
    expect(decodeRegisters(regsOf('  ab  '), { type: 'string', order: 'ABCD', length: 8 })).toBe('  ab');
    expect(decodeString(Buffer.from('METER\0\0\0', 'latin1'))).toBe('METER');
    expect(decodeString(Buffer.from('\0\0METER   ', 'latin1'))).toBe('METER');
    expect(decodeString(Buffer.alloc(8))).toBe('');
  });
  it('stops at the first NUL: junk after a terminator is not part of the value', () => {
    expect(decodeString(Buffer.from('ABC\0XYZ!', 'latin1'))).toBe('ABC');
  });
  it('refuses strings that do not fit or carry NUL', () => {
    expect(() => encodeValue('x'.repeat(17), { type: 'string', order: 'ABCD', length: 8 })).toThrow(/does not fit/);
    for (const text of ['a\0b', 'a\nb', 'a\u0085b', 'a\u2029b', 'a\u200bb']) {
      expect(() => encodeValue(text, { type: 'string', order: 'ABCD', length: 8 }), JSON.stringify(text)).toThrow(/control or format character/);
    }
    expect(() => encodeValue(12, { type: 'string', order: 'ABCD', length: 8 })).toThrow(/string/);
  });
});

describe('bits', () => {
  it('extracts bit n of the 16-bit value, 0 = least significant', () => {
    const spec = (bit: number, order: ByteOrder = 'ABCD'): ValueSpec => ({ type: 'uint16', order, bit });
    expect(decodeRegisters([0b1010], spec(1))).toBe(true);
    expect(decodeRegisters([0b1010], spec(0))).toBe(false);
    expect(decodeRegisters([0x8000], spec(15))).toBe(true);
    // Byte-swapped register: the wire 0x0100 is the value 0x0001.
    expect(decodeRegisters([0x0100], spec(0, 'BADC'))).toBe(true);
    expect(decodeRegisters([0x0100], spec(8, 'BADC'))).toBe(false);
    expect(decodeRegisters([0x0004], { type: 'bool', order: 'ABCD', bit: 2 })).toBe(true);
  });
  it('sets and clears one bit, leaving the others', () => {
    expect(withBit(0b1000, 0, true, 'ABCD')).toBe(0b1001);
    expect(withBit(0xffff, 15, false, 'ABCD')).toBe(0x7fff);
    expect(withBit(0x0000, 0, true, 'BADC')).toBe(0x0100);
  });
});

describe('write values are checked, never wrapped', () => {
  const spec = (type: DataType): ValueSpec => ({ type, order: 'ABCD' });
  it.each([
    ['uint16', 65536], ['uint16', -1], ['int16', 32768], ['int16', -32769], ['uint32', 2 ** 32], ['int32', -(2 ** 31) - 1],
    ['uint64', -1], ['uint64', 2n ** 64n], ['int64', 2n ** 63n], ['float32', 1e39], ['float32', Number.NaN],
    ['float64', Number.POSITIVE_INFINITY],
  ] as [DataType, number | bigint][])('%s %s is rejected', (type, value) => {
    expect(() => encodeValue(value, spec(type))).toThrow(/outside|not a finite/);
  });
  it('takes exact integers only: no tolerance, no rounding', () => {
    expect(() => encodeValue(12.5, spec('int16'))).toThrow(/not a whole number/);
    // The core un-scales exactly; float noise reaching a driver is a fraction like any other.
    expect(() => encodeValue(230.99999999999997, spec('uint16'))).toThrow(/not a whole number/);
    expect(() => encodeValue(600000000.5, spec('uint32'))).toThrow(/not a whole number/);
    expect(encodeValue('123', spec('uint16'))).toEqual([123]);
    expect(() => encodeValue(true, spec('uint16'))).toThrow(CommandError);
    expect(() => encodeValue('abc', spec('float32'))).toThrow(CommandError);
  });
  it('64-bit integers are exact from text and bigint; a float beyond 2^53 is refused', () => {
    expect(encodeValue('9007199254740993', spec('uint64'))).toEqual([0x0020, 0x0000, 0x0000, 0x0001]);
    expect(encodeValue(9007199254740993n, spec('int64'))).toEqual([0x0020, 0x0000, 0x0000, 0x0001]);
    expect(encodeValue('18446744073709551615', spec('uint64'))).toEqual([0xffff, 0xffff, 0xffff, 0xffff]);
    expect(() => encodeValue('18446744073709551616', spec('uint64'))).toThrow(/outside the uint64 range/);
    expect(() => encodeValue(2 ** 60, spec('uint64'))).toThrow(/beyond 2\^53/);
  });
  it.each(['0x10', '0b11', '0o17', '+5', '.5', '5.', '1_000', 'Infinity', '-Infinity', 'NaN', '1e3x', '١٢', ' '])(
    'text %j is not a number for any numeric type',
    (text) => {
      for (const type of ['uint16', 'int32', 'uint64', 'float32', 'float64'] as DataType[]) {
        expect(() => encodeValue(text, spec(type)), type).toThrow(CommandError);
      }
    },
  );
  it('exponent notation is decimal notation: "1e3" is 1000 for every numeric type', () => {
    expect(encodeValue('1e3', spec('uint16'))).toEqual([1000]);
    expect(encodeValue('2.5E2', spec('int16'))).toEqual([250]);
    expect(encodeValue('1e3', spec('float32'))).toEqual(encodeValue(1000, spec('float32')));
    expect(() => encodeValue('1.5e0', spec('uint16'))).toThrow(/not a whole number/);
  });
  it('converts booleans from true/false and 1/0 only', () => {
    expect(toBoolean(true)).toBe(true);
    expect(toBoolean(0)).toBe(false);
    expect(() => toBoolean(2)).toThrow(TypeError);
    expect(() => toBoolean('on')).toThrow(TypeError);
    expect(toInteger(5n)).toBe(5n);
  });
});

describe('round trip: decode(encode(v)) === v (fast-check)', () => {
  const ints: [DataType, fc.Arbitrary<bigint>][] = [
    ['int16', fc.bigInt(-(2n ** 15n), 2n ** 15n - 1n)],
    ['uint16', fc.bigInt(0n, 2n ** 16n - 1n)],
    ['int32', fc.bigInt(-(2n ** 31n), 2n ** 31n - 1n)],
    ['uint32', fc.bigInt(0n, 2n ** 32n - 1n)],
    ['int64', fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n)],
    ['uint64', fc.bigInt(0n, 2n ** 64n - 1n)],
  ];
  for (const order of ORDERS) {
    for (const [type, arb] of ints) {
      it(`${type} ${order}`, () => {
        fc.assert(fc.property(arb, (v) => {
          const spec = { type, order };
          const regs = encodeValue(v, spec);
          expect(regs.every((r) => Number.isInteger(r) && r >= 0 && r <= 0xffff)).toBe(true);
          expect(BigInt(decodeRegisters(regs, spec) as number | bigint)).toBe(v);
        }));
      });
    }
    it(`float32 ${order}`, () => {
      fc.assert(fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const spec: ValueSpec = { type: 'float32', order };
        // Decoding yields the shortest decimal of the same float32, which converts back exactly.
        expect(Object.is(Math.fround(decodeRegisters(encodeValue(v, spec), spec) as number), v)).toBe(true);
      }));
    });
    it(`float64 ${order}`, () => {
      fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const spec: ValueSpec = { type: 'float64', order };
        expect(Object.is(decodeRegisters(encodeValue(v, spec), spec), v)).toBe(true);
      }));
    });
    it(`string ${order}`, () => {
      const text = fc.string({ unit: 'grapheme', maxLength: 10 })
        .filter((s) => !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(s) && !s.endsWith(' ') && Buffer.byteLength(s) <= 20);
      fc.assert(fc.property(text, (v) => {
        const spec: ValueSpec = { type: 'string', order, length: 10 };
        expect(decodeRegisters(encodeValue(v, spec), spec)).toBe(v);
      }));
    });
  }
});

describe('shortestFloat32', () => {
  it('publishes the shortest decimal of the same float32', async () => {
    const { shortestFloat32 } = await import('../../../drivers/modbus/register-codec.js');
    expect(shortestFloat32(Math.fround(230.3))).toBe(230.3);
    expect(shortestFloat32(Math.fround(0.1))).toBe(0.1);
    expect(shortestFloat32(Math.fround(-1.5e-7))).toBe(-1.5e-7);
    expect(shortestFloat32(Math.fround(16777217))).toBe(16777216);
    for (const x of [1.17549435e-38, 3.4028235e38, 123456.789, -98.7654321]) {
      const f = Math.fround(x);
      expect(Math.fround(shortestFloat32(f))).toBe(f);
    }
  });
});

describe('decoding in place', () => {
  // The driver decodes each point straight out of the poll's answer (no copy per point): a value
  // at any position of a longer answer must decode exactly as the same registers on their own.
  const specs: ValueSpec[] = [];
  for (const order of ORDERS) {
    for (const type of ['bool', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'int64', 'uint64', 'float64'] as DataType[]) {
      specs.push({ type, order });
    }
    specs.push({ type: 'string', order, length: 3 }, { type: 'uint16', order, bit: 9 });
  }
  for (const spec of specs) {
    it(`${spec.type}${spec.bit === undefined ? '' : `.${spec.bit}`} ${spec.order}`, () => {
      const word = fc.integer({ min: 0, max: 0xffff });
      fc.assert(fc.property(fc.array(word, { maxLength: 6 }), fc.array(word, { minLength: 4, maxLength: 4 }), fc.array(word, { maxLength: 6 }),
        (before, value, after) => {
          const own = value.slice(0, spec.type === 'string' ? 3 : registerCount(spec));
          const answer = [...before, ...own, ...after];
          expect(Object.is(decodeRegisters(answer, spec, before.length), decodeRegisters(own, spec))
            || (Number.isNaN(decodeRegisters(own, spec)) && Number.isNaN(decodeRegisters(answer, spec, before.length)))).toBe(true);
        }));
    });
  }
  it('reads 16- and 32-bit integers in every order from the words (a table)', () => {
    const cases: [DataType, ByteOrder, number[], number][] = [
      ['int16', 'ABCD', [0xfffe], -2], ['int16', 'BADC', [0xfeff], -2], ['uint16', 'DCBA', [0x3412], 0x1234],
      ['int32', 'ABCD', [0xffff, 0xfffe], -2], ['int32', 'CDAB', [0xfffe, 0xffff], -2],
      ['uint32', 'BADC', [0x3412, 0x7856], 0x12345678], ['uint32', 'DCBA', [0x7856, 0x3412], 0x12345678],
      ['uint32', 'ABCD', [0xffff, 0xffff], 0xffffffff], ['int32', 'ABCD', [0x8000, 0], -0x80000000],
    ];
    for (const [type, order, regs, value] of cases) expect(decodeRegisters(regs, { type, order }), `${type} ${order}`).toBe(value);
  });
});
