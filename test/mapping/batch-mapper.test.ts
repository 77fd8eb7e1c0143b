// DeviceMapper with payload: batch (one entry per poll + the retained /meta), and the cbor encoding.
import { describe, expect, it } from 'vitest';
import type { DeviceConfigBase, PointConfigBase, Reading } from '../../src/driver-api/index.js';
import { DeviceMapper, pointTopic, type MappingDefaults } from '../../src/mapping/reading-mapper.js';
import { CborCodec } from '../../src/wire/cbor-codec.js';
import { batchRenderer, metaRenderer } from '../../src/mapping/batch-payload.js';

const BATCH: MappingDefaults = { site: 'plant1', gateway: 'gw7', topic: '{site}/{device}/{point}', payload: 'batch', encoding: 'json', qos: 1 };
const NOW = Date.parse('2026-11-26T06:40:00.123Z');
const ISO = '2026-11-26T06:40:00.123Z';
const cbor = new CborCodec();

function device(points: PointConfigBase[], extra: Partial<DeviceConfigBase> = {}): DeviceConfigBase {
  return { name: 'meter1', driver: 'sim', points, ...extra };
}

function render(mapper: DeviceMapper, readings: Reading[], seq = 7, force = false) {
  return mapper.map(readings, NOW, force).entries.map((e) => ({ topic: e.topic, qos: e.qos, retain: e.retain, ts: e.ts, body: e.render(seq) }));
}

const json = (b: Buffer) => JSON.parse(b.toString()) as Record<string, unknown>;

describe('payload: batch', () => {
  it('renders the JSON payload as it maps (names quoted once) exactly as the generic renderer does', () => {
    // The mapper writes JSON members as it goes; names that need escaping, strings, bigints,
    // non-finite numbers, scaled values and points in error must come out byte for byte as the
    // renderer used for CBOR and by the packer would write them.
    const names = ['plain', 'a"quote', 'back\\slash', 'üñí', '__proto__', 'line\u2028sep', 'ts'];
    const points: PointConfigBase[] = names.map((name, i) => ({ name, ...(i === 2 ? { scale: 0.1 } : {}) }));
    const mapper = new DeviceMapper(device(points), BATCH);
    const raw: (number | string | bigint | null)[] = [1, 'text "q"', 2317, 2n ** 64n - 1n, Number.NaN, null, -0.5];
    const readings: Reading[] = names.map((point, i) => (i === 5 ? { point, value: null, quality: 'bad', error: 'timeout', ts: NOW } : { point, value: raw[i]!, ts: NOW }));
    const [, batch] = mapper.map(readings, NOW).entries;
    const values = names.flatMap((n, i) => (i === 5 ? [] : [[n, i === 2 ? 231.7 : raw[i]!] as [string, number | string | bigint | null]]));
    const expected = batchRenderer('json', { ts: NOW, values, errors: [['line\u2028sep', 'timeout']] })(42);
    expect(batch!.render(42).toString()).toBe(expected.toString());
    expect(json(expected).values).toMatchObject({ 'a"quote': 'text "q"', 'back\\slash': 231.7, ts: -0.5 });
    expect(expected.toString()).toContain('"üñí":18446744073709551615,');
  });

  it('journals the retained /meta first, then one message per poll with every point and one seq', () => {
    const mapper = new DeviceMapper(device([{ name: 'voltage_l1', unit: 'V' }, { name: 'current_l1', unit: 'A' }, { name: 'state' }]), BATCH);
    const out = render(mapper, [
      { point: 'voltage_l1', value: 231.4, ts: NOW },
      { point: 'current_l1', value: 3.2, ts: NOW + 4 },
      { point: 'state', value: 'run', ts: NOW + 9 },
    ]);
    expect(out.map((o) => [o.topic, o.retain])).toEqual([['plant1/meter1/meta', true], ['plant1/meter1', false]]);
    expect(json(out[0]!.body)).toEqual({
      ts: ISO, seq: 7, device: 'meter1',
      points: { voltage_l1: { unit: 'V' }, current_l1: { unit: 'A' }, state: {} },
    });
    expect(out[1]!.body.toString()).toBe(`{"ts":"${ISO}","seq":7,"values":{"voltage_l1":231.4,"current_l1":3.2,"state":"run"}}`);
    expect(out[1]!.ts).toBe(NOW); // the poll's earliest acquisition time
    // The meta goes once per mapper (device start); later polls are batch messages only.
    expect(render(mapper, [{ point: 'voltage_l1', value: 231.5, ts: NOW }]).map((o) => o.topic)).toEqual(['plant1/meter1']);
  });

  it('keeps deadband and heartbeat per point; a poll with nothing due journals nothing', () => {
    const mapper = new DeviceMapper(device([{ name: 'a', deadband: 1 }, { name: 'b', deadband: 1, heartbeat: '10s' }]), BATCH);
    render(mapper, [{ point: 'a', value: 10, ts: NOW }, { point: 'b', value: 20, ts: NOW }]);
    expect(render(mapper, [{ point: 'a', value: 10.5, ts: NOW + 1000 }, { point: 'b', value: 20.5, ts: NOW + 1000 }])).toEqual([]);
    const due = render(mapper, [{ point: 'a', value: 11.5, ts: NOW + 2000 }, { point: 'b', value: 20.2, ts: NOW + 2000 }]);
    expect(json(due[0]!.body).values).toEqual({ a: 11.5 });
    const beat = render(mapper, [{ point: 'a', value: 11.5, ts: NOW + 10_000 }, { point: 'b', value: 20.2, ts: NOW + 10_000 }]);
    expect(json(beat[0]!.body).values).toEqual({ b: 20.2 });
  });

  it('reports bad points under errors and never invents a value; values is left out when empty', () => {
    const mapper = new DeviceMapper(device([{ name: 'a' }, { name: 'b' }]), BATCH);
    const mixed = render(mapper, [{ point: 'a', value: 1, ts: NOW }, { point: 'b', value: null, quality: 'bad', error: 'timeout', ts: NOW }]);
    expect(json(mixed[1]!.body)).toEqual({ ts: ISO, seq: 7, values: { a: 1 }, errors: { b: 'timeout' } });
    const allBad = render(mapper, [{ point: 'a', value: null, quality: 'bad', error: 'crc', ts: NOW }]);
    expect(json(allBad[0]!.body)).toEqual({ ts: ISO, seq: 7, errors: { a: 'crc' } });
  });

  it('scales values, keeps bigints exact and reports unknown points', () => {
    const mapper = new DeviceMapper(device([{ name: 'v', scale: 0.1 }, { name: 'count' }]), BATCH);
    const { entries, unknown } = mapper.map(
      [{ point: 'v', value: 2317 }, { point: 'count', value: 12345678901234567890n }, { point: 'ghost', value: 1 }], NOW,
    );
    expect(unknown).toEqual(['ghost']);
    expect(entries[1]!.render(1).toString()).toContain('"values":{"v":231.7,"count":12345678901234567890}');
  });

  it('uses the device topic for batches, the site/point template for points (commands), and the highest point QoS', () => {
    const dev = device([{ name: 'sp', writable: true, qos: 2 }, { name: 'x', topic: 'own/x', qos: 0 }], { topic: 'lines/{device}' });
    const mapper = new DeviceMapper(dev, BATCH);
    expect(mapper.batchTopic).toBe('lines/meter1');
    expect(mapper.points.get('sp')!.topic).toBe('plant1/meter1/sp');
    expect(pointTopic(BATCH, dev, dev.points[1]!)).toBe('own/x');
    const [meta, batch] = render(mapper, [{ point: 'sp', value: 5, ts: NOW }]);
    expect(meta!.topic).toBe('lines/meter1/meta');
    expect(json(meta!.body).points).toEqual({ sp: { command_topic: 'plant1/meter1/sp/set' }, x: {} });
    expect(batch!.qos).toBe(2);
  });

  it('a forced read-back after a command publishes that point inside the deadband', () => {
    const mapper = new DeviceMapper(device([{ name: 'sp', deadband: 100 }]), BATCH);
    render(mapper, [{ point: 'sp', value: 50, ts: NOW }]);
    expect(render(mapper, [{ point: 'sp', value: 51, ts: NOW }])).toEqual([]);
    expect(json(render(mapper, [{ point: 'sp', value: 51, ts: NOW }], 9, true)[0]!.body)).toMatchObject({ seq: 9, values: { sp: 51 } });
  });

  it('a device may opt into batch while the site stays per point, and the other way round', () => {
    const perPoint = { ...BATCH, payload: 'json' as const };
    expect(new DeviceMapper(device([{ name: 'p' }], { payload: 'batch' }), perPoint).batchTopic).toBe('plant1/meter1');
    const single = new DeviceMapper(device([{ name: 'p' }], { payload: 'json' }), BATCH);
    expect(single.batchTopic).toBeUndefined();
    expect(render(single, [{ point: 'p', value: 1, ts: NOW }]).map((o) => o.topic)).toEqual(['plant1/meter1/p']);
  });
});

describe('payload_encoding: cbor', () => {
  it('encodes batch rows and the meta as CBOR maps with ts in epoch ms', () => {
    const mapper = new DeviceMapper(device([{ name: 'v', unit: 'V' }, { name: 'n' }], { payload_encoding: 'cbor' }), BATCH);
    const [meta, batch] = render(mapper, [{ point: 'v', value: 231.4, ts: NOW }, { point: 'n', value: 2n ** 60n, ts: NOW }]);
    expect(meta!.body[0]! >> 5).toBe(5); // CBOR major type 5: a map
    expect(cbor.decode(meta!.body)).toEqual({ ts: NOW, seq: 7, device: 'meter1', points: { v: { unit: 'V' }, n: {} } });
    expect(cbor.decode(batch!.body)).toEqual({ ts: NOW, seq: 7, values: { v: 231.4, n: 2n ** 60n } });
  });

  it('encodes per-point rows with the same fields as JSON, quality included', () => {
    const mapper = new DeviceMapper(device([{ name: 'v', unit: 'V' }]), { ...BATCH, payload: 'json', encoding: 'cbor' });
    const [good] = render(mapper, [{ point: 'v', value: 231.4, ts: NOW }], 3);
    expect(cbor.decode(good!.body)).toEqual({ value: 231.4, ts: NOW, seq: 3, unit: 'V' });
    const [bad] = render(mapper, [{ point: 'v', value: null, quality: 'bad', error: 'timeout', ts: NOW + 1 }], 4);
    expect(cbor.decode(bad!.body)).toEqual({ value: null, ts: NOW + 1, seq: 4, unit: 'V', quality: 'bad', error: 'timeout' });
  });

  it('tells the journal each row\'s encoding: every format and encoding a mapper can produce', () => {
    const points = [{ name: 'v' }];
    const readings = [{ point: 'v', value: 1, ts: NOW }];
    const cases = [
      [{ ...BATCH, payload: 'json' }, undefined, ['json']],
      [{ ...BATCH, payload: 'json', encoding: 'cbor' }, undefined, ['cbor']],
      [{ ...BATCH, payload: 'value' }, undefined, ['text']],
      [BATCH, undefined, ['json', 'json']],
      [BATCH, 'cbor', ['cbor', 'cbor']],
    ] as const;
    for (const [defaults, deviceEncoding, expected] of cases) {
      const mapper = new DeviceMapper(device(points, deviceEncoding ? { payload_encoding: deviceEncoding } : {}), defaults);
      expect(mapper.map(readings, NOW).entries.map((e) => e.encoding)).toEqual(expected);
    }
    // Validation refuses `payload: value` with cbor; the mapper does not quietly send JSON instead.
    expect(() => new DeviceMapper(device(points), { ...BATCH, payload: 'value', encoding: 'cbor' })).toThrow(/cannot be sent as cbor/);
  });

  it('is smaller than JSON for the same batch', () => {
    const content = { ts: NOW, values: [['voltage_l1', 231.4], ['current_l1', 3.2], ['energy', 48213] ] as const, errors: [] };
    const asJson = batchRenderer('json', content)(1234);
    const asCbor = batchRenderer('cbor', content, cbor)(1234);
    expect(asCbor.length).toBeLessThan(asJson.length);
    expect(() => batchRenderer('cbor', content)).toThrow(/CborCodec/);
    expect(() => metaRenderer('cbor', { ts: NOW, device: 'd', points: [] })).toThrow(/CborCodec/);
  });

  it('a point named __proto__ is data, not a prototype', () => {
    const content = { ts: NOW, values: [['__proto__', 1]] as const, errors: [] };
    expect(cbor.decode(batchRenderer('cbor', content, cbor)(1))).toMatchObject({ seq: 1 });
    expect(Object.keys((json(batchRenderer('json', content)(1)).values as object))).toEqual(['__proto__']);
  });
});
