import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JsonPointEntry, jsonPointHead, jsonPointTail, payloadRenderer, valueJson } from '../../src/mapping/payload.js';

const TS = Date.parse('2026-11-26T06:40:00.123Z');

describe('valueJson', () => {
  it.each([
    [21.5, '21.5'],
    [0, '0'],
    [-0, '0'],
    [-40, '-40'],
    [1e21, '1e+21'],
    [true, 'true'],
    [false, 'false'],
    ['auto', '"auto"'],
    ['say "hi"\n', '"say \\"hi\\"\\n"'],
    [null, 'null'],
    [Number.NaN, 'null'],
    [Number.POSITIVE_INFINITY, 'null'],
    [Number.NEGATIVE_INFINITY, 'null'],
    [42n, '42'],
    [-42n, '-42'],
    // Beyond 2^53 every digit survives (Number would give 9007199254740992 for the first).
    [2n ** 53n + 1n, '9007199254740993'],
    [2n ** 64n - 1n, '18446744073709551615'],
    [-(2n ** 63n), '-9223372036854775808'],
  ])('%s → %s', (value, expected) => {
    expect(valueJson(value)).toBe(expected);
  });

  it('gives what JSON.stringify gives every number, boolean and string', () => {
    fc.assert(fc.property(fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string({ unit: 'binary' })), (value) => {
      const expected = typeof value === 'number' && !Number.isFinite(value) ? 'null' : JSON.stringify(value);
      expect(valueJson(value)).toBe(expected);
    }), { numRuns: 2000 });
  });
});

describe('JsonPointEntry', () => {
  it('renders what payloadRenderer renders for the same reading, and carries the entry fields', () => {
    const scalar = fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string(), fc.bigInt(), fc.constant(null));
    const text = fc.option(fc.string({ unit: 'binary' }), { nil: undefined });
    fc.assert(fc.property(scalar, text, text, fc.integer({ min: 0, max: 4102444800000 }), fc.nat(), (value, unit, error, ts, seq) => {
      const tsText = new Date(ts).toISOString();
      const entry = new JsonPointEntry(ts, 'site/d/p', 1, false, jsonPointHead(value, tsText), jsonPointTail(unit, error));
      expect(entry.render(seq)).toEqual(payloadRenderer('json', { value, ts, unit, error })(seq));
      expect(entry).toMatchObject({ ts, topic: 'site/d/p', qos: 1, retain: false, encoding: 'json' });
    }), { numRuns: 1000 });
  });
});

describe('payloadRenderer json', () => {
  it('renders the exact documented shape', () => {
    const render = payloadRenderer('json', { value: 21.5, ts: TS, unit: 'C' });
    expect(render(1234).toString()).toBe('{"value":21.5,"ts":"2026-11-26T06:40:00.123Z","seq":1234,"unit":"C"}');
  });

  it.each([
    ['no unit', { value: 21.5 }, '{"value":21.5,"ts":"2026-11-26T06:40:00.123Z","seq":7}'],
    ['a boolean, empty unit', { value: true, unit: '' }, '{"value":true,"ts":"2026-11-26T06:40:00.123Z","seq":7,"unit":""}'],
    ['a string', { value: 'auto' }, '{"value":"auto","ts":"2026-11-26T06:40:00.123Z","seq":7}'],
    ['a uint64 bigint', { value: 2n ** 64n - 1n, unit: 'Wh' }, '{"value":18446744073709551615,"ts":"2026-11-26T06:40:00.123Z","seq":7,"unit":"Wh"}'],
    ['NaN', { value: Number.NaN }, '{"value":null,"ts":"2026-11-26T06:40:00.123Z","seq":7}'],
    ['a unit with a quote', { value: 1, unit: 'm"3' }, '{"value":1,"ts":"2026-11-26T06:40:00.123Z","seq":7,"unit":"m\\"3"}'],
  ])('%s', (_label, input, expected) => {
    expect(payloadRenderer('json', { ts: TS, ...input })(7).toString()).toBe(expected);
  });

  it('renders the bad-quality form with the error text', () => {
    const render = payloadRenderer('json', { value: null, ts: TS, unit: 'V', error: 'timeout after 1000 ms' });
    expect(render(99).toString()).toBe(
      '{"value":null,"ts":"2026-11-26T06:40:00.123Z","seq":99,"unit":"V","quality":"bad","error":"timeout after 1000 ms"}',
    );
  });

  it('escapes the error text so the payload stays valid JSON', () => {
    const render = payloadRenderer('json', { value: null, ts: TS, error: 'bad "frame"\r\n\u0001' });
    const parsed = JSON.parse(render(1).toString()) as Record<string, unknown>;
    expect(parsed).toEqual({ value: null, ts: '2026-11-26T06:40:00.123Z', seq: 1, quality: 'bad', error: 'bad "frame"\r\n\u0001' });
  });

  it('every json payload parses and carries the seq it was rendered with', () => {
    const render = payloadRenderer('json', { value: -3.25, ts: 0, unit: '°C' });
    for (const seq of [1, 2, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      expect(JSON.parse(render(seq).toString())).toEqual({ value: -3.25, ts: '1970-01-01T00:00:00.000Z', seq, unit: '°C' });
    }
  });

  it('writes UTF-8 bytes', () => {
    const bytes = payloadRenderer('json', { value: 1, ts: TS, unit: '°C' })(1);
    expect(bytes.includes(Buffer.from([0xc2, 0xb0]))).toBe(true);
  });
});

describe('payloadRenderer value', () => {
  it.each([
    [21.5, '21.5'],
    [-0.001, '-0.001'],
    [true, 'true'],
    [false, 'false'],
    ['auto', 'auto'],
    ['with "quotes"', 'with "quotes"'],
    [2n ** 53n + 1n, '9007199254740993'],
    [null, ''],
  ])('%s → %j', (value, expected) => {
    const render = payloadRenderer('value', { value, ts: TS, unit: 'C' });
    expect(render(5).toString()).toBe(expected);
    expect(render(6).toString()).toBe(expected);
  });

  it('carries neither seq, ts, unit nor error', () => {
    expect(payloadRenderer('value', { value: 1, ts: TS, unit: 'C', error: 'x' })(123).toString()).toBe('1');
  });
});
