// Engineering value → raw value for a write, computed exactly: raw = (value − offset) / scale, with
// scale and offset taken as the decimals written in the site file (0.1 means one tenth, not the
// float nearest to it). A whole raw value is passed on exactly; any other is passed on as the
// nearest float, which an integer target then refuses. So 21.55 with scale 0.1 is raw 215.5:
// written to a float register, refused by an int16 — never rounded to 215 or 216 behind the
// sender's back.
import type { Scalar } from '../driver-api/index.js';
import { decimalOfNumber, ratioScalar, wholeScalar, type Decimal } from '../util/command-number.js';

export function unscaleExact(value: Decimal, scale: number, offset: number, shown: () => string): Scalar {
  if (scale === 1 && offset === 0) {
    // Nothing to compute: one conversion from the exact decimal, no intermediate rounding.
    return value.exponent >= 0 ? wholeScalar(value.coefficient * 10n ** BigInt(value.exponent)) : Number(`${value.coefficient}e${value.exponent}`);
  }
  const s = decimalOfNumber(scale);
  const o = decimalOfNumber(offset);
  // value − offset = diff × 10^e
  const e = Math.min(value.exponent, o.exponent);
  const diff = value.coefficient * 10n ** BigInt(value.exponent - e) - o.coefficient * 10n ** BigInt(o.exponent - e);
  // (diff × 10^e) / (s.coefficient × 10^s.exponent)
  const shift = e - s.exponent;
  const numerator = shift >= 0 ? diff * 10n ** BigInt(shift) : diff;
  const denominator = shift >= 0 ? s.coefficient : s.coefficient * 10n ** BigInt(-shift);
  return ratioScalar(numerator, denominator, shown);
}
