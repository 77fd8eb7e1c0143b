// SunSpec-style scale factors: a point's value is multiplied by 10^sf, where sf is a signed 16-bit
// register the device updates along with its values (SunSpec `*_SF` registers). The scale factor
// is read in the same poll as the value, so the two always belong together.
import type { Reading } from '../../src/driver-api/index.js';

/** SunSpec: 0x8000 in an int16 register means "not implemented". */
export const SF_NOT_IMPLEMENTED = -32768;
/** SunSpec allows -10..10; anything beyond is a misread register, not a scale. */
export const SF_LIMIT = 10;

/** The point's reading with its scale factor applied, or bad when the factor is unusable. */
export function applyScaleFactor(reading: Reading, factor: Reading | undefined, where: string): Reading {
  if (reading.quality === 'bad' || reading.value === null) return reading;
  const bad = (error: string): Reading => ({ point: reading.point, value: null, ts: reading.ts, quality: 'bad', error });
  if (!factor || factor.quality === 'bad' || factor.value === null) {
    return bad(`scale factor ${where} unreadable${factor?.error ? `: ${factor.error}` : ''}`);
  }
  const sf = factor.value as number;
  if (sf === SF_NOT_IMPLEMENTED) return bad(`scale factor ${where} is not implemented (0x8000)`);
  if (sf < -SF_LIMIT || sf > SF_LIMIT) return bad(`scale factor ${where} is ${sf}, outside -${SF_LIMIT}..${SF_LIMIT}`);
  const value = typeof reading.value === 'bigint' ? Number(reading.value) : reading.value;
  if (typeof value !== 'number') return reading;
  // Dividing by an exact power of ten keeps 2317 × 10^-1 at 231.7 (multiplying by 0.1 does not).
  const scaled = sf < 0 ? value / 10 ** -sf : value * 10 ** sf;
  return { ...reading, value: scaled };
}
