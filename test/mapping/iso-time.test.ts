import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IsoTimeFormatter } from '../../src/mapping/iso-time.js';

/** What toISOString gives, or the error it throws. */
function reference(ts: number): string {
  try {
    return new Date(ts).toISOString();
  } catch (err) {
    return `throws ${(err as Error).name}`;
  }
}

function formatted(f: IsoTimeFormatter, ts: number): string {
  try {
    return f.format(ts);
  } catch (err) {
    return `throws ${(err as Error).name}`;
  }
}

describe('IsoTimeFormatter', () => {
  it.each([
    [Date.parse('2026-11-26T06:40:00.123Z'), '2026-11-26T06:40:00.123Z'],
    [Date.parse('2026-11-26T06:00:00.000Z'), '2026-11-26T06:00:00.000Z'],
    [Date.parse('2026-11-26T06:59:59.999Z'), '2026-11-26T06:59:59.999Z'],
    [0, '1970-01-01T00:00:00.000Z'],
    [-1, '1969-12-31T23:59:59.999Z'],
    [-62_167_219_200_000, '0000-01-01T00:00:00.000Z'],
    [253_402_300_799_999, '9999-12-31T23:59:59.999Z'],
    [253_402_300_800_000, '+010000-01-01T00:00:00.000Z'],
    [-62_167_219_200_001, '-000001-12-31T23:59:59.999Z'],
    [1.5, '1970-01-01T00:00:00.001Z'],
  ])('%s → %s', (ts, text) => {
    expect(new IsoTimeFormatter().format(ts)).toBe(text);
  });

  it('gives what toISOString gives for any time, in any order, whatever it formatted before', () => {
    const time = fc.oneof(
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      // Close together, as a gateway's polls are: the same hour and its neighbours.
      fc.integer({ min: 1_790_000_000_000, max: 1_790_000_000_000 + 3 * 3_600_000 }),
      fc.double(),
    );
    fc.assert(fc.property(fc.array(time, { maxLength: 50 }), (times) => {
      const f = new IsoTimeFormatter();
      for (const ts of times) expect(formatted(f, ts)).toBe(reference(ts));
    }), { numRuns: 500 });
  });
});
