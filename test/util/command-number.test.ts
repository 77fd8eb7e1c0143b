// The shared number rule for commands: one table per function, the same rows the drivers rely on.
import { describe, expect, it } from 'vitest';
import {
  compareDecimal, decimalOfNumber, parseDecimal, ratioScalar, readCommandNumber, toExactInteger, toFiniteNumber, toIntegerIn,
} from '../../src/util/command-number.js';
import { CommandError } from '../../src/util/errors.js';

describe('parseDecimal: JSON number text, exactly', () => {
  it.each([
    ['0', 0n, 0],
    ['-0', 0n, 0],
    ['42', 42n, 0],
    ['-3', -3n, 0],
    ['21.5', 215n, -1],
    ['21.50', 215n, -1],
    ['1000', 1n, 3],
    ['1e3', 1n, 3],
    ['2.5E-3', 25n, -4],
    ['1e+2', 1n, 2],
    [' 7 ', 7n, 0],
    ['9007199254740993', 9007199254740993n, 0],
    ['0.30000000000000000001', 30000000000000000001n, -20],
  ])('%j = %s × 10^%s', (text, coefficient, exponent) => {
    expect(parseDecimal(text)).toEqual({ coefficient, exponent });
  });

  it.each([
    '', ' ', '0x10', '0X1A', '0b11', '0o17', '017', '+1', '.5', '5.', '1.', '1_000', '1,5', 'Infinity', '-Infinity', 'NaN',
    '1e', 'e3', '1e3.5', '--1', '1 2', '١٢', '１２', '\n5', '5\u2028', '1e9999999', '1e1101',
  ])('%j is not a number', (text) => {
    expect(parseDecimal(text)).toBeUndefined();
  });
});

describe('readCommandNumber', () => {
  it.each<[string | number | bigint, number | bigint]>([
    ['42', 42],
    ['-42', -42],
    ['21.5', 21.5],
    ['1e3', 1000],
    ['9007199254740991', 9007199254740991],
    ['9007199254740993', 9007199254740993n],
    ['-9223372036854775808', -9223372036854775808n],
    ['18446744073709551615', 18446744073709551615n],
    ['1e20', 100000000000000000000n],
    ['600000000.5', 600000000.5],
    ['0.1', 0.1],
    [21.5, 21.5],
    [7n, 7n],
  ])('%s → %s', (value, expected) => {
    expect(readCommandNumber(value)).toBe(expected);
  });

  it.each<[string | number | boolean, RegExp]>([
    ['0x10', /decimal/],
    ['abc', /decimal/],
    [true, /got true/],
    [Number.NaN, /not a finite/],
    [Number.POSITIVE_INFINITY, /not a finite/],
    ['1e400', /out of range/],
    // The fraction does not survive as a float: it would silently become a whole number.
    ['1.00000000000000000001', /fraction too small.*become 1$/],
    ['9007199254740993.5', /fraction too small/],
    ['1e-400', /fraction too small/],
  ])('%j is refused (%s)', (value, message) => {
    expect(() => readCommandNumber(value)).toThrow(CommandError);
    expect(() => readCommandNumber(value)).toThrow(message);
  });

  it('quotes at most a bounded prefix of a long bad value', () => {
    let err: Error | undefined;
    try {
      readCommandNumber('9'.repeat(100) + 'x'.repeat(1_000_000));
    } catch (e) {
      err = e as Error;
    }
    expect(err!.message.length).toBeLessThan(200);
    expect(err!.message).toContain('… (1000100 chars)');
  });
});

describe('toExactInteger / toIntegerIn', () => {
  it.each<[string | number | bigint, bigint]>([
    [5, 5n],
    ['5', 5n],
    ['21.0', 21n],
    ['1e3', 1000n],
    ['9007199254740993', 9007199254740993n],
    [9007199254740993n, 9007199254740993n],
    [-0, 0n],
  ])('%s → %s', (value, expected) => {
    expect(toExactInteger(value)).toBe(expected);
  });

  it.each<[string | number | boolean, RegExp]>([
    [600000000.5, /not a whole number/],
    ['600000000.5', /not a whole number/],
    [12.5, /not a whole number/],
    [230.99999999999997, /not a whole number/],
    [2 ** 60, /beyond 2\^53.*"1152921504606846976"/],
    [Number.MAX_SAFE_INTEGER + 2, /beyond 2\^53/],
    [false, /got false/],
    ['0b11', /decimal/],
  ])('%j is refused (%s)', (value, message) => {
    expect(() => toExactInteger(value)).toThrow(message);
  });

  it.each<[string, bigint, bigint, string, boolean]>([
    ['4294967295', 0n, 2n ** 32n - 1n, 'uint32', true],
    ['4294967296', 0n, 2n ** 32n - 1n, 'uint32', false],
    ['-1', 0n, 2n ** 32n - 1n, 'uint32', false],
    ['-9223372036854775808', -(2n ** 63n), 2n ** 63n - 1n, 'int64', true],
    ['-9223372036854775809', -(2n ** 63n), 2n ** 63n - 1n, 'int64', false],
  ])('%s in %s..%s (%s): %s', (value, lo, hi, type, ok) => {
    if (ok) expect(toIntegerIn(value, lo, hi, type)).toBe(BigInt(value));
    else expect(() => toIntegerIn(value, lo, hi, type)).toThrow(new RegExp(`outside the ${type} range`));
  });
});

describe('toFiniteNumber', () => {
  it.each<[string | number | bigint, number]>([
    ['21.5', 21.5],
    ['1e3', 1000],
    ['-2.5E-3', -0.0025],
    [3n, 3],
    [0.1, 0.1],
  ])('%s → %s', (value, expected) => {
    expect(toFiniteNumber(value)).toBe(expected);
  });

  it.each(['0x10', '0b11', '0o7', 'Infinity', 'NaN', '1e400', ' ', '+3'])('%j is refused', (text) => {
    expect(() => toFiniteNumber(text)).toThrow(CommandError);
  });
});

describe('exact comparisons and ratios', () => {
  it('compares decimals exactly, not as floats', () => {
    expect(compareDecimal(parseDecimal('0.3')!, decimalOfNumber(0.3))).toBe(0);
    expect(compareDecimal(parseDecimal('100.0000000000000000001')!, decimalOfNumber(100))).toBe(1);
    expect(compareDecimal(parseDecimal('-1e3')!, parseDecimal('-999.9')!)).toBe(-1);
  });

  it.each<[bigint, bigint, number | bigint]>([
    [10n, 2n, 5],
    [-10n, 4n, -2.5],
    [1n, 3n, 1 / 3],
    [2n ** 64n, 1n, 2n ** 64n],
    [2n ** 64n + 2n, 2n, 2n ** 63n + 1n],
  ])('%s / %s = %s', (n, d, expected) => {
    expect(ratioScalar(n, d, () => 'x')).toBe(expected);
  });

  it('refuses a ratio whose fraction a float cannot keep', () => {
    expect(() => ratioScalar(2n ** 60n + 1n, 2n, () => 'the raw value')).toThrow(/the raw value has a fraction too small/);
  });
});
