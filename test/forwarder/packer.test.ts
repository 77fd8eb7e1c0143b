// planPublishes: journal rows in, publishes out. Pure, so table-driven.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JournalEntry, Qos } from '../../src/journal/journal.js';
import { planPublishes, type PlannedPublish } from '../../src/forwarder/packer.js';
import { CborCodec } from '../../src/wire/cbor-codec.js';
import { batchRenderer } from '../../src/mapping/batch-payload.js';
import { payloadRenderer } from '../../src/mapping/payload.js';
import { unpackMessage } from '../../src/wire/unpack.js';

const cbor = new CborCodec();
const T0 = Date.parse('2026-11-26T06:40:00.123Z');

type Kind = 'batch' | 'point' | 'value' | 'bad' | 'cbor' | 'retained';

/** Compact row spec: "<topic>:<kind>[:q<qos>]", seqs are assigned 1, 2, 3… */
function rows(...specs: string[]): JournalEntry[] {
  return specs.map((spec, i) => {
    const [topic, kind = 'batch', q = 'q1'] = spec.split(':') as [string, Kind, string];
    const seq = i + 1;
    const ts = T0 + seq * 1000;
    const qos = Number(q.slice(1)) as Qos;
    const payload = {
      batch: () => batchRenderer('json', { ts, values: [['v', seq / 10]], errors: [] })(seq),
      cbor: () => batchRenderer('cbor', { ts, values: [['v', seq / 10]], errors: [] }, cbor)(seq),
      retained: () => batchRenderer('json', { ts, values: [['v', seq / 10]], errors: [] })(seq),
      point: () => payloadRenderer('json', { value: seq, ts, unit: 'V' })(seq),
      bad: () => payloadRenderer('json', { value: null, ts, error: 'timeout' })(seq),
      value: () => Buffer.from(String(seq)),
    }[kind]();
    const encoding = kind === 'value' ? 'text' : kind === 'cbor' ? 'cbor' : 'json';
    return { seq, ts, topic, qos, retain: kind === 'retained', encoding, payload };
  });
}

const roomy = { maxRows: 100, maxBytes: () => 65536 };
/** Each publish as "<topic>[seqs]" with a * for packs. */
const shape = (pubs: PlannedPublish[]) => pubs.map((p) => `${p.topic}${p.seqs.length > 1 || p.payload.includes('"pack"') ? '*' : ''}[${p.seqs.join(',')}]`);

describe('planPublishes', () => {
  it.each([
    ['one topic: one pack', rows('a', 'a', 'a'), roomy, ['a*[1,2,3]']],
    ['two topics interleaved: a pack each, at the place of its oldest row', rows('a', 'b', 'a', 'b', 'a'), roomy, ['a*[1,3,5]', 'b*[2,4]']],
    ['a lone row stays as it is', rows('a', 'b', 'a'), roomy, ['a*[1,3]', 'b[2]']],
    ['max_pack splits a topic into consecutive packs', rows('a', 'a', 'a', 'a', 'a'), { ...roomy, maxRows: 2 }, ['a*[1,2]', 'a*[3,4]', 'a[5]']],
    ['a bare-value row ends the pack of its topic and keeps its place', rows('a', 'a', 'a:value', 'a', 'a'), roomy, ['a*[1,2]', 'a[3]', 'a*[4,5]']],
    ['a quality-bad per-point row is sent alone', rows('p:point', 'p:bad', 'p:point', 'p:point'), roomy, ['p[1]', 'p[2]', 'p*[3,4]']],
    ['a retained row is never packed', rows('m:retained', 'a', 'm:retained', 'a'), roomy, ['m[1]', 'a*[2,4]', 'm[3]']],
    ['a QoS change on a topic starts a new pack', rows('a', 'a', 'a:batch:q0', 'a:batch:q0'), roomy, ['a*[1,2]', 'a*[3,4]']],
    ['JSON and CBOR rows of one topic do not mix', rows('a', 'a', 'a:cbor', 'a:cbor'), roomy, ['a*[1,2]', 'a*[3,4]']],
    ['per-point and batch shapes on one topic may share a pack when their keys do not clash', rows('a:point', 'a:point'), roomy, ['a*[1,2]']],
    ['rows not in any pack keep their order across topics', rows('a:value', 'b:value', 'a:value'), roomy, ['a[1]', 'b[2]', 'a[3]']],
  ])('%s', (_name, input, limits, expected) => {
    expect(shape(planPublishes(input, limits, cbor))).toEqual(expected);
  });

  it('keeps every pack within the byte limit, splitting where needed', () => {
    const input = rows(...Array.from({ length: 60 }, () => 'a'));
    for (const maxBytes of [120, 300, 1000]) {
      const pubs = planPublishes(input, { maxRows: 100, maxBytes: () => maxBytes }, cbor);
      expect(pubs.flatMap((p) => p.seqs)).toEqual(input.map((r) => r.seq));
      for (const p of pubs.filter((x) => x.seqs.length > 1)) expect(p.payload.length).toBeLessThanOrEqual(maxBytes);
      expect(pubs.filter((p) => p.seqs.length > 1).length).toBeGreaterThan(0);
    }
    // A budget below one packed row: everything goes alone, nothing is lost.
    expect(planPublishes(input, { maxRows: 100, maxBytes: () => 10 }, cbor).every((p) => p.seqs.length === 1)).toBe(true);
  });

  it('asks for the byte limit per topic (the broker limit depends on the topic length)', () => {
    const asked: string[] = [];
    planPublishes(rows('a', 'b', 'a', 'b'), { maxRows: 100, maxBytes: (t) => (asked.push(t), 65536) }, cbor);
    expect(asked.sort()).toEqual(['a', 'b']);
  });

  it('marks CBOR packs and CBOR singles with the content type, JSON with none', () => {
    const pubs = planPublishes(rows('c:cbor', 'c:cbor', 'd:cbor', 'j'), roomy, cbor);
    expect(pubs.map((p) => [p.topic, p.contentType])).toEqual([['c', 'application/cbor'], ['d', 'application/cbor'], ['j', undefined]]);
  });

  it('goes by the encoding the journal stored, not by what the bytes look like', () => {
    // A `payload: value` row whose text is a canonical JSON map: text, so never packed.
    const [a, b] = rows('a', 'a');
    const asText = [{ ...a!, encoding: 'text' as const }, { ...b!, encoding: 'text' as const }];
    expect(shape(planPublishes(asText, roomy, cbor))).toEqual(['a[1]', 'a[2]']);
    // The content type comes from the encoding too.
    expect(planPublishes([{ ...a!, encoding: 'cbor' }], roomy, cbor)[0]!.contentType).toBe('application/cbor');
    expect(planPublishes(rows('c:cbor').map((r) => ({ ...r, encoding: 'text' as const })), roomy, cbor)[0]!.contentType).toBeUndefined();
  });

  it('keeps per-topic order, carries every row exactly once and unpacks to the same rows', () => {
    const kinds = ['batch', 'batch', 'batch', 'point', 'value', 'bad', 'cbor', 'retained'] as const;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom(...kinds)), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 100, max: 3000 }),
        (spec, maxRows, maxBytes) => {
          const input = rows(...spec.map(([t, k]) => `${t}:${k}`));
          const pubs = planPublishes(input, { maxRows, maxBytes: () => maxBytes }, cbor);
          expect(pubs.flatMap((p) => p.seqs).sort((x, y) => x - y)).toEqual(input.map((r) => r.seq));
          for (const topic of ['a', 'b', 'c']) {
            const seqs = pubs.filter((p) => p.topic === topic).flatMap((p) => p.seqs);
            expect(seqs).toEqual(input.filter((r) => r.topic === topic).map((r) => r.seq));
          }
          for (const p of pubs) {
            expect(p.seqs.length).toBeLessThanOrEqual(maxRows);
            if (p.seqs.length > 1) {
              expect(p.payload.length).toBeLessThanOrEqual(maxBytes);
              expect(unpackMessage(p.payload).map((r) => r.seq)).toEqual(p.seqs);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
