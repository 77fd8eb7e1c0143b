// The packed wire format: which rows may be packed, the exact JSON it produces, and the
// property that unpacking a pack gives back exactly the rows that went in.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CborCodec } from '../../src/wire/cbor-codec.js';
import { decodeRow, encodePack, type PackEncoding, type PackRow } from '../../src/wire/pack-codec.js';
import type { RowEncoding } from '../../src/wire/row-encoding.js';
import { SeqWindow, UnpackError, unpackMessage } from '../../src/wire/unpack.js';
import { batchRenderer } from '../../src/mapping/batch-payload.js';
import { payloadRenderer } from '../../src/mapping/payload.js';

const cbor = new CborCodec();
const T0 = Date.parse('2026-11-26T06:40:00.123Z');
const iso = (ms: number) => new Date(ms).toISOString();
const text = (s: string) => Buffer.from(s);

function rowOf(payload: Buffer, seq: number, encoding: PackEncoding = 'json'): PackRow {
  const row = decodeRow(payload, encoding, seq, cbor);
  if (!row) throw new Error(`not packable: ${payload.toString()}`);
  return row;
}

describe('decodeRow', () => {
  it.each([
    ['a per-point JSON row', text(`{"value":231.4,"ts":"${iso(T0)}","seq":5,"unit":"V"}`), 'json'],
    ['a batch JSON row', text(`{"ts":"${iso(T0)}","seq":5,"values":{"a":1,"b":"on"},"errors":{"c":"timeout"}}`), 'json'],
    ['a CBOR batch row with a bigint', cbor.encode({ ts: T0, seq: 5, values: { n: 2n ** 62n } }), 'cbor'],
  ] as const)('packs %s', (_name, payload, encoding) => {
    expect(decodeRow(payload, encoding, 5, cbor)?.seq).toBe(5);
  });

  it.each([
    ['a bare value', text('231.4'), 'text'],
    ['a bare string that looks like JSON', text('{"seq":5'), 'text'],
    // A `payload: value` row whose text happens to be a canonical map: its encoding says text.
    ['a text row that reads as a canonical JSON map', text(`{"value":1,"ts":"${iso(T0)}","seq":5}`), 'text'],
    ['a per-point row with quality bad (value null)', text(`{"value":null,"ts":"${iso(T0)}","seq":5,"quality":"bad","error":"x"}`), 'json'],
    ['a row whose seq is not its journal seq', text(`{"value":1,"ts":"${iso(T0)}","seq":6}`), 'json'],
    ['a ts that is not in toISOString form', text('{"value":1,"ts":"2026-11-26T06:40:00Z","seq":5}'), 'json'],
    ['a JSON integer beyond 2^53 (JSON.parse would round it)', text(`{"ts":"${iso(T0)}","seq":5,"values":{"n":12345678901234567890}}`), 'json'],
    ['an empty group', text(`{"ts":"${iso(T0)}","seq":5,"values":{}}`), 'json'],
    ['a group nested deeper', text(`{"ts":"${iso(T0)}","seq":5,"values":{"a":{"b":1}}}`), 'json'],
    ['a list', text(`{"ts":"${iso(T0)}","seq":5,"values":[1,2]}`), 'json'],
    ['a pack', text(`{"pack":1,"ts":"${iso(T0)}","seq":5}`), 'json'],
    ['broken JSON', text('{"ts":'), 'json'],
    ['a CBOR row with ts as text', cbor.encode({ ts: iso(T0), seq: 5, value: 1 }), 'cbor'],
  ] as const)('leaves %s alone', (_name, payload, encoding: RowEncoding) => {
    expect(decodeRow(payload, encoding, 5, cbor)).toBeUndefined();
  });
});

describe('encodePack', () => {
  it('writes the columnar form the consumer docs describe', () => {
    const rows = [
      rowOf(batchRenderer('json', { ts: T0, values: [['v', 231.4], ['pf', 0.98]], errors: [] })(1001), 1001),
      rowOf(batchRenderer('json', { ts: T0 + 1000, values: [['v', 231.5], ['pf', 0.98]], errors: [] })(1003), 1003),
      rowOf(batchRenderer('json', { ts: T0 + 2000, values: [['pf', 0.98]], errors: [['v', 'timeout']] })(1004), 1004),
    ];
    expect(JSON.parse(encodePack(rows, 'json').toString())).toEqual({
      pack: 1, n: 3, seq: 1001, dseq: [2, 1], ts: iso(T0), dts: 1000,
      cols: { values: { v: [231.4, 231.5, null], pf: 0.98 }, errors: { v: [null, null, 'timeout'] } },
    });
  });

  it('leaves dseq out for consecutive seqs and dts out for equal times', () => {
    const rows = [1, 2, 3].map((seq) => rowOf(payloadRenderer('json', { value: seq, ts: T0, unit: 'V' })(seq), seq));
    expect(JSON.parse(encodePack(rows, 'json').toString())).toEqual({ pack: 1, n: 3, seq: 1, ts: iso(T0), cols: { value: [1, 2, 3], unit: 'V' } });
  });

  it('is far smaller than the rows it replaces', () => {
    const names = ['voltage_l1', 'voltage_l2', 'voltage_l3', 'current_l1', 'current_l2', 'current_l3', 'power', 'energy', 'frequency', 'pf'];
    const payloads = Array.from({ length: 100 }, (_, i) =>
      batchRenderer('json', { ts: T0 + i * 1000 + (i % 3), values: names.map((n, j) => [n, Number((230 + j + (i % 7) / 10).toFixed(1))]), errors: [] })(i + 1),
    );
    const pack = encodePack(payloads.map((p, i) => rowOf(p, i + 1)), 'json');
    const raw = payloads.reduce((s, p) => s + p.length, 0);
    expect(pack.length / 1000).toBeLessThan(9); // bytes per reading
    expect(pack.length).toBeLessThan(raw / 3);
  });
});

describe('unpackMessage', () => {
  it('returns a single row as it is', () => {
    const row = payloadRenderer('json', { value: 1.5, ts: T0, unit: 'C' })(42);
    expect(unpackMessage(row)).toEqual([{ value: 1.5, ts: iso(T0), seq: 42, unit: 'C' }]);
    expect(unpackMessage(cbor.encode({ ts: T0, seq: 43, values: { a: 1 } }))).toEqual([{ ts: T0, seq: 43, values: { a: 1 } }]);
  });

  it.each([
    ['a bare value', text('231.4')],
    ['JSON without seq', text('{"a":1}')],
    ['an unknown pack version', text('{"pack":2,"n":1,"seq":1,"ts":0,"cols":{}}')],
    ['a column of the wrong length', text('{"pack":1,"n":2,"seq":1,"ts":0,"cols":{"v":[1]}}')],
    ['dseq of the wrong length', text('{"pack":1,"n":3,"seq":1,"dseq":[1],"ts":0,"cols":{}}')],
    ['broken JSON', text('{"pack":')],
  ])('refuses %s', (_name, payload) => {
    expect(() => unpackMessage(payload)).toThrow(UnpackError);
  });
});

// Rows as the gateway writes them, but with arbitrary content.
const pointName = fc.constantFrom('v', 'voltage_l1', 'x.y', 'p-1', '__proto__', 'constructor', 'ä');
const jsonLeaf = fc.oneof(
  fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.string({ maxLength: 8 }),
);
const cborLeaf = fc.oneof(jsonLeaf, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }));

function rowsArbitrary(leaf: fc.Arbitrary<unknown>, shape: 'point' | 'batch') {
  const group = (values: fc.Arbitrary<unknown>) => fc.dictionary(pointName, values, { minKeys: 1, maxKeys: 4 });
  const rest =
    shape === 'point'
      ? fc.record({ value: leaf, unit: fc.constantFrom('V', 'A', '°C') }, { requiredKeys: ['value'] })
      : fc
          .record({ values: group(leaf), errors: group(fc.string({ maxLength: 6 })) }, { requiredKeys: [] })
          .filter((r) => Object.keys(r).length > 0);
  return fc.array(
    fc.record({ dseq: fc.integer({ min: 1, max: 5 }), dts: fc.integer({ min: -2000, max: 5000 }), rest }),
    { minLength: 1, maxLength: 30 },
  );
}

function encodeRows(rows: Array<{ dseq: number; dts: number; rest: Record<string, unknown> }>, encoding: PackEncoding) {
  let seq = 1000;
  let ts = T0;
  return rows.map((r) => {
    seq += r.dseq;
    ts += r.dts;
    const body = { ts: encoding === 'json' ? iso(ts) : ts, seq, ...r.rest };
    return { seq, payload: encoding === 'json' ? Buffer.from(JSON.stringify(body)) : cbor.encode(body) };
  });
}

describe('pack then unpack gives back the rows', () => {
  for (const encoding of ['json', 'cbor'] as const) {
    for (const shape of ['point', 'batch'] as const) {
      it(`${encoding}, ${shape} rows`, () => {
        fc.assert(
          fc.property(rowsArbitrary(encoding === 'json' ? jsonLeaf : cborLeaf, shape), (generated) => {
            const encoded = encodeRows(generated, encoding);
            const rows = encoded.map((e) => rowOf(e.payload, e.seq, encoding));
            const expected = encoded.flatMap((e) => unpackMessage(e.payload));
            const unpacked = unpackMessage(encodePack(rows, encoding, cbor));
            expect(unpacked).toEqual(expected);
            expect(unpacked.map((r) => Object.getPrototypeOf(r))).toEqual(expected.map((r) => Object.getPrototypeOf(r)));
          }),
          { numRuns: 150 },
        );
      });
    }
  }
});

describe('SeqWindow', () => {
  it('accepts each seq once, in any order within the horizon', () => {
    const w = new SeqWindow(10);
    expect([5, 3, 5, 4, 3, 20, 12, 9, 11, 20].map((s) => w.accept(s))).toEqual([true, true, false, true, false, true, true, false, true, false]);
  });

  it('keeps memory bounded', () => {
    const w = new SeqWindow(100);
    for (let s = 1; s <= 100_000; s++) w.accept(s);
    expect(w['seen'].size).toBeLessThanOrEqual(201);
    expect(w.accept(100_000)).toBe(false);
    expect(w.accept(100_001)).toBe(true);
  });
});
