// The one rule for reading a number out of a command, shared by the core (min/max, un-scaling) and
// every driver (register, field and characteristic encoders), so that "0x10" or 600000000.5 mean
// the same thing — usually "refused" — whichever point they are sent to.
//
// - Text is a number only when written like a JSON number: optional minus, digits without leading
//   zeros, optional fraction, optional exponent ("-12", "21.5", "1e3", "2.5E-3"). Hex, binary,
//   octal, "+1", ".5", "5.", "1_000", "Infinity" and "NaN" are not numbers.
// - Whole numbers are exact at any size: "9007199254740993" stays 9007199254740993 (a bigint
//   beyond 2^53); a JSON number never gets the chance to round it (see command-payload.ts).
// - A number with a fraction is read as the nearest 64-bit float. If that float is a whole number
//   (the fraction was too small to survive: 1.00000000000000000001, 9007199254740993.5) the value
//   is refused, so a fraction can never silently become an integer.
// - Integer targets take whole numbers only, checked exactly: no tolerance, no rounding.
import type { Scalar } from '../driver-api/index.js';
import { CommandError } from './errors.js';
import { quoteValue } from './quote-value.js';

/** An exact decimal: coefficient × 10^exponent, normalised (no trailing zeros in the coefficient). */
export interface Decimal {
  readonly coefficient: bigint;
  readonly exponent: number;
}

const NUMBER_TEXT = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d{1,6}))?$/;
/** Exponents beyond this are not numbers at all: bounds the BigInt work on hostile text. */
const MAX_EXPONENT = 1100;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);

function invalid(message: string): CommandError {
  return new CommandError('invalid_value', message);
}

/** The exact value of number text, or undefined when the text is not a number by the rule above. */
export function parseDecimal(text: string): Decimal | undefined {
  const m = NUMBER_TEXT.exec(text.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (!m) return undefined;
  const [, sign, whole, fraction = '', exp = '0'] = m;
  const exponent = Number(exp) - fraction.length;
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
  return normalise(BigInt(`${sign}${whole}${fraction}`), exponent);
}

function normalise(coefficient: bigint, exponent: number): Decimal {
  if (coefficient === 0n) return { coefficient, exponent: 0 };
  let c = coefficient;
  let e = exponent;
  while (c % 10n === 0n) {
    c /= 10n;
    e += 1;
  }
  return { coefficient: c, exponent: e };
}

/** The exact decimal a finite float stands for in this rule: its shortest text ("0.1", not 0.1000000000000000055…). */
export function decimalOfNumber(n: number): Decimal {
  return parseDecimal(String(n))!;
}

export function decimalOfBigInt(n: bigint): Decimal {
  return normalise(n, 0);
}

export function isWhole(d: Decimal): boolean {
  return d.exponent >= 0;
}

function wholeValue(d: Decimal): bigint {
  return d.coefficient * 10n ** BigInt(d.exponent);
}

export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const e = Math.min(a.exponent, b.exponent);
  const x = a.coefficient * 10n ** BigInt(a.exponent - e);
  const y = b.coefficient * 10n ** BigInt(b.exponent - e);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A whole number as the driver API carries it: a number while exact, a bigint beyond 2^53. */
export function wholeScalar(v: bigint): number | bigint {
  return v <= SAFE_MAX && v >= SAFE_MIN ? Number(v) : v;
}

/** The value an exact ratio stands for: exact when whole; otherwise the nearest float, which must keep a fraction. */
export function ratioScalar(numerator: bigint, denominator: bigint, shown: () => string): number | bigint {
  if (denominator === 0n) throw invalid(`${shown()} cannot be computed (division by zero)`);
  if (numerator % denominator === 0n) return wholeScalar(numerator / denominator);
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  // Twenty significant digits, more than a float64 holds, then one correctly rounded conversion.
  const shift = Math.max(0, 20 - (n.toString().length - d.toString().length));
  const digits = (n * 10n ** BigInt(shift)) / d;
  const x = Number(`${negative ? '-' : ''}${digits}e-${shift}`);
  return fractional(x, shown);
}

function fractional(x: number, shown: () => string): number {
  if (!Number.isFinite(x)) throw invalid(`${shown()} is outside the range of a 64-bit float`);
  if (Number.isInteger(x)) {
    throw invalid(`${shown()} has a fraction too small for a 64-bit float to keep; it would become ${x}`);
  }
  return x;
}

/**
 * The number a command value stands for: a float with a fraction, an exact safe integer, or a
 * bigint. Throws CommandError('invalid_value') for anything else (booleans, other text).
 */
export function readCommandNumber(value: Scalar): number | bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`${value} is not a finite number`);
    return value;
  }
  if (typeof value === 'boolean') throw invalid(`expected a number, got ${value}`);
  const d = parseDecimal(value);
  if (!d) throw invalid(`expected a number written in decimal (like 21.5 or -3), got ${quoteValue(value)}`);
  const nearest = Number(value.trim());
  // Nothing a point can hold lies beyond the float64 range (uint64 ends at 1.8e19).
  if (!Number.isFinite(nearest)) throw invalid(`${quoteValue(value)} is out of range (not a finite 64-bit float)`);
  if (isWhole(d)) return wholeScalar(wholeValue(d));
  return fractional(nearest, () => quoteValue(value));
}

/** The exact decimal of a command value (see readCommandNumber). */
export function commandDecimal(value: Scalar): Decimal {
  const n = readCommandNumber(value);
  if (typeof n === 'bigint') return decimalOfBigInt(n);
  if (!Number.isSafeInteger(n) && Number.isInteger(n)) {
    // A float beyond 2^53 may already have been rounded by whoever made it; only text or a bigint is exact.
    throw invalid(`${n} is beyond 2^53 and may have been rounded; send it as text ("${BigInt(n)}") to mean it exactly`);
  }
  return decimalOfNumber(n);
}

/** A whole number for an integer target, exactly as sent. Throws CommandError('invalid_value'). */
export function toExactInteger(value: Scalar): bigint {
  const n = readCommandNumber(value);
  if (typeof n === 'bigint') return n;
  if (!Number.isInteger(n)) throw invalid(`${n} is not a whole number`);
  if (!Number.isSafeInteger(n)) {
    throw invalid(`${n} is beyond 2^53 and may have been rounded; send it as text ("${BigInt(n)}") to mean it exactly`);
  }
  return BigInt(n);
}

/** A whole number checked against an integer type's range, e.g. [0n, 65535n] for uint16. */
export function toIntegerIn(value: Scalar, lo: bigint, hi: bigint, type: string): bigint {
  const v = toExactInteger(value);
  if (v < lo || v > hi) throw invalid(`${quoteValue(v)} is outside the ${type} range ${lo}..${hi}`);
  return v;
}

/** A finite float for a float target; the nearest float is what a float register can hold anyway. */
export function toFiniteNumber(value: Scalar): number {
  const n = readCommandNumber(value);
  const x = Number(n);
  if (!Number.isFinite(x)) throw invalid(`${quoteValue(n)} is outside the range of a 64-bit float`);
  return x;
}
