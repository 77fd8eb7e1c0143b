import { describe, expect, it } from 'vitest';
import { restampPayload } from '../../src/clock/restamp.js';
import { batchRenderer } from '../../src/mapping/batch-payload.js';
import { payloadRenderer } from '../../src/mapping/payload.js';
import { CborCodec } from '../../src/wire/cbor-codec.js';

const cbor = new CborCodec();
const T = Date.parse('2023-01-01T00:00:00Z');

describe('restampPayload', () => {
  it('moves only the top-level ts of JSON per-point and batch payloads; digits and key order stay', () => {
    const point = payloadRenderer('json', { value: 12345678901234567890n, ts: T, unit: '"ts":"x"' })(7);
    const out = restampPayload(point, 'json', 1000, false, cbor).toString();
    expect(out).toBe(point.toString().replace('2023-01-01T00:00:00.000Z', '2023-01-01T00:00:01.000Z'));
    expect(out).toContain('12345678901234567890');
    const batch = batchRenderer('json', { ts: T, values: [['ts', 'text "ts":"2000-01-01T00:00:00Z"']], errors: [] })(8);
    const b = JSON.parse(restampPayload(batch, 'json', -1000, true, cbor).toString()) as Record<string, unknown>;
    expect(b.ts).toBe('2022-12-31T23:59:59.000Z');
    expect(b.clock).toBe('unsynced');
    expect((b.values as Record<string, unknown>).ts).toBe('text "ts":"2000-01-01T00:00:00Z"');
  });

  it('CBOR: ts (epoch ms) moved, the flag added; text payloads are left alone', () => {
    const c = payloadRenderer('json', { value: 2, ts: T }, 'cbor', cbor)(9);
    expect(cbor.decode(restampPayload(c, 'cbor', 5, true, cbor))).toEqual({ value: 2, ts: T + 5, seq: 9, clock: 'unsynced' });
    const text = Buffer.from('21.5');
    expect(restampPayload(text, 'text', 5, true, cbor)).toBe(text);
  });
});
