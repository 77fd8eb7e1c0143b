import { describe, expect, it } from 'vitest';
import { CommandError, FieldgateError } from '../../../src/driver-api/index.js';
import { VALUE_TYPES, decodeValue, encodeValue, typeSize, type ValueType } from '../../../drivers/ble/value-codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('decodeValue', () => {
  const cases: [ValueType, string, number | string][] = [
    ['uint8', 'fe', 254],
    ['int8', 'fe', -2],
    ['uint16le', '3412', 0x1234],
    ['uint16be', '1234', 0x1234],
    ['int16le', 'f6ff', -10],
    ['int16be', 'fff6', -10],
    ['int16le', '7e09', 2430], // 24.30 °C in the Environmental Sensing temperature characteristic
    ['uint32le', '78563412', 0x12345678],
    ['uint32be', 'ffffffff', 0xffffffff],
    ['int32le', 'feffffff', -2],
    ['int32be', '80000000', -0x80000000],
    ['float32le', '0000c03f', 1.5],
    ['float32be', 'c0480000', -3.125],
    ['utf8', '68656c6c6f', 'hello'],
  ];

  it.each(cases)('%s %s -> %s', (type, bytes, expected) => {
    expect(decodeValue(type, hex(bytes))).toBe(expected);
  });

  it('covers every declared type', () => {
    expect(new Set(cases.map(([t]) => t))).toEqual(new Set(VALUE_TYPES));
  });

  it('reads at a byte offset and ignores trailing bytes', () => {
    // A packed characteristic: int16le temperature, uint8 humidity, uint16le millivolts.
    const packed = hex('2a09 37 b80b');
    expect(decodeValue('int16le', packed, 0)).toBe(2346);
    expect(decodeValue('uint8', packed, 2)).toBe(55);
    expect(decodeValue('uint16le', packed, 3)).toBe(3000);
  });

  it('rejects a buffer too short for the type', () => {
    expect(() => decodeValue('uint16le', hex('01'))).toThrow(FieldgateError);
    expect(() => decodeValue('int32be', hex('010203'))).toThrow(/needs 4/);
    expect(() => decodeValue('uint8', hex('0102'), 2)).toThrow(/needs 3/);
    expect(() => decodeValue('uint8', Buffer.alloc(0))).toThrow();
  });

  it('refuses non-finite floats instead of reporting NaN', () => {
    expect(() => decodeValue('float32le', hex('0000c07f'))).toThrow(/finite/);
    expect(() => decodeValue('float32be', hex('7f800000'))).toThrow(/finite/);
  });

  it('strips NUL padding from text and decodes from the offset', () => {
    expect(decodeValue('utf8', hex('41424300 00'))).toBe('ABC');
    expect(decodeValue('utf8', hex('ff c3a9'), 1)).toBe('é');
    expect(decodeValue('utf8', hex('41'), 1)).toBe('');
    expect(() => decodeValue('utf8', hex('41'), 2)).toThrow(FieldgateError);
  });
});

describe('encodeValue', () => {
  const cases: [ValueType, number | string | boolean | bigint, string][] = [
    ['uint8', 254, 'fe'],
    ['int8', -2, 'fe'],
    ['uint16le', 0x1234, '3412'],
    ['uint16be', 0x1234, '1234'],
    ['int16le', -10, 'f6ff'],
    ['int16be', -10, 'fff6'],
    ['uint32le', 0x12345678, '78563412'],
    ['uint32be', 0xffffffff, 'ffffffff'],
    ['int32le', -2, 'feffffff'],
    ['int32be', -0x80000000, '80000000'],
    ['float32le', 1.5, '0000c03f'],
    ['float32be', -3.125, 'c0480000'],
    ['utf8', 'hello', '68656c6c6f'],
  ];

  it.each(cases)('%s %s -> %s', (type, value, bytes) => {
    expect(encodeValue(type, value).toString('hex')).toBe(bytes);
  });

  it('round-trips every type through decodeValue', () => {
    for (const [type, value] of cases) expect(decodeValue(type, encodeValue(type, value))).toBe(value);
  });

  it('accepts booleans, bigints and numeric strings for numbers', () => {
    expect(encodeValue('uint8', true).toString('hex')).toBe('01');
    expect(encodeValue('uint8', false).toString('hex')).toBe('00');
    expect(encodeValue('int32le', -5n).toString('hex')).toBe('fbffffff');
    expect(encodeValue('int16be', ' 42 ').toString('hex')).toBe('002a');
    expect(encodeValue('utf8', 21.5).toString()).toBe('21.5');
  });

  it('takes exact integers only: the core un-scales exactly, so float noise is a real fraction here', () => {
    // 0.29 / 0.01 in IEEE doubles is 28.999999999999996; the core sends 29 for 0.29 with scale 0.01.
    expect(() => encodeValue('int16le', 0.29 / 0.01)).toThrow(/whole number/);
    expect(() => encodeValue('int16le', 21.5)).toThrow(/whole number/);
    expect(encodeValue('uint32le', '4294967295').readUInt32LE(0)).toBe(4294967295);
    for (const text of ['0x10', '0b11', '0o7', 'Infinity', 'NaN', '+1', '.5', '1_0', '']) {
      expect(() => encodeValue('uint16le', text), text).toThrow(CommandError);
      expect(() => encodeValue('float32le', text), text).toThrow(CommandError);
    }
    expect(encodeValue('float32le', '1e3').readFloatLE(0)).toBe(1000);
  });

  it('refuses control and format characters in text, like every driver', () => {
    for (const text of ['a\nb', 'a\u0085b', 'a\u2028b', 'a\u202eb', '\u0000']) {
      expect(() => encodeValue('utf8', text), JSON.stringify(text)).toThrow(/control or format character/);
    }
    expect(encodeValue('utf8', 'ünïcödé ok').toString()).toBe('ünïcödé ok');
  });

  it('rejects values the type cannot carry with CommandError', () => {
    const bad: [ValueType, number | string | bigint][] = [
      ['uint8', 256],
      ['uint8', -1],
      ['int8', 128],
      ['int16le', 32768],
      ['uint16be', 65536],
      ['uint32le', -1],
      ['int32be', 2 ** 31],
      ['float32le', 1e39],
      ['float32be', Number.NaN],
      ['uint8', 'warm'],
      ['uint8', ''],
      ['uint32le', 2n ** 60n],
    ];
    for (const [type, value] of bad) {
      expect(() => encodeValue(type, value), `${type} ${String(value)}`).toThrow(CommandError);
    }
    expect(() => encodeValue('utf8', 'x'.repeat(513))).toThrow(CommandError);
  });

  it('knows the size of each type', () => {
    expect(typeSize('uint8')).toBe(1);
    expect(typeSize('int16be')).toBe(2);
    expect(typeSize('float32le')).toBe(4);
    expect(typeSize('utf8')).toBeUndefined();
  });
});
