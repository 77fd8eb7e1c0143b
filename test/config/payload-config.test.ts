// The site-file side of payload formats and packing: defaults, inheritance, and the
// combinations that are refused with a message at the key to fix.
import { describe, expect, it } from 'vitest';
import { lines, problems, validate } from './site-fixtures.js';

const HEAD = ['site: plant-7', 'gateway: gw-01', 'mqtt:', '  url: mqtt://127.0.0.1:1883'];
const device = (name: string, ...extra: string[]) => [`  - name: ${name}`, '    driver: sim', ...extra, '    points:', '      - { name: temp, signal: sine, unit: C }'];

describe('defaults', () => {
  it('a batch device publishes on {site}/{device}; its points keep the site template for commands', () => {
    const { config } = validate(lines(...HEAD, 'payload: batch', 'devices:', ...device('a'), ...device('b', '    topic: "lines/{device}"')));
    const [a, b] = config.devices;
    expect([a!.topic, a!.points[0]!.topic]).toEqual(['{site}/{device}', '{site}/{device}/{point}']);
    expect([b!.topic, b!.points[0]!.topic]).toEqual(['lines/{device}', '{site}/{device}/{point}']);
    expect(config.payload_encoding).toBe('json');
  });

  it('devices inherit payload and payload_encoding from the top level and may override them', () => {
    const text = lines(...HEAD, 'payload: batch', 'payload_encoding: cbor', 'devices:', ...device('a'), ...device('b', '    payload: json'), ...device('c', '    payload_encoding: json'));
    expect(validate(text).config.devices.map((d) => [d.payload, d.payload_encoding])).toEqual([
      ['batch', 'cbor'], ['json', 'cbor'], ['batch', 'json'],
    ]);
  });

  it('accepts the packing keys and fills their defaults', () => {
    expect(validate(lines(...HEAD, 'devices:', ...device('a'))).config.buffer).toMatchObject({ pack: false, max_pack: 100, max_pack_bytes: '64KiB' });
    const text = lines(...HEAD, 'buffer:', '  pack: true', '  max_pack: 500', '  max_pack_bytes: 16KiB', 'devices:', ...device('a'));
    expect(validate(text).config.buffer).toMatchObject({ pack: true, max_pack: 500, max_pack_bytes: '16KiB' });
    expect(validate(text).config.mqtt.refused_retry).toBe('1s');
  });
});

describe('errors', () => {
  it.each([
    ['payload: value with cbor at the top level', [...HEAD, 'payload: value', 'payload_encoding: cbor', 'devices:', ...device('a'), ...device('b')],
      ['site.yaml:6:19: payload_encoding: cbor cannot be used with payload: value; use payload: json or batch']],
    ['a device asking for cbor with payload: value', [...HEAD, 'payload: value', 'devices:', ...device('a', '    payload_encoding: cbor')],
      ['site.yaml:9:23: devices[0].payload_encoding: cbor cannot be used with payload: value (a bare value has no structure to encode); use json or batch']],
    ['a device choosing payload: value under a cbor site', [...HEAD, 'payload_encoding: cbor', 'devices:', ...device('a', '    payload: value')],
      ['site.yaml:9:14: devices[0].payload: payload: value cannot be sent as cbor (payload_encoding: cbor is inherited from the top level); set payload_encoding: json on this device']],
    ['an unknown encoding', [...HEAD, 'payload_encoding: msgpack', 'devices:', ...device('a')],
      ['site.yaml:5:19: payload_encoding: "msgpack" is not one of "json", "cbor"']],
    ['a retained point on a batch device', [...HEAD, 'devices:', '  - name: a', '    driver: sim', '    payload: batch', '    points:', '      - { name: t, signal: sine, retain: true }'],
      [expect.stringMatching(/^site\.yaml:10:42: devices\[0\]\.points\[0\]\.retain: a point of a payload: batch device cannot be retained/)]],
    ['{point} in a batch topic', [...HEAD, 'devices:', ...device('a', '    payload: batch', '    topic: "{site}/{point}"')],
      ['site.yaml:9:12: devices[0].topic: a payload: batch device has one topic for all its points, so {point} cannot be used in its topic']],
    ['a batch topic that is another point\'s topic', [...HEAD, 'devices:', ...device('a'), ...device('b', '    payload: batch', '    topic: "plant-7/a/temp"')],
      ['site.yaml:13:12: devices[1].topic: topic "plant-7/a/temp" of device b (batch) is also used by a/temp (line 9)']],
    ['pack that is not true/false', [...HEAD, 'buffer:', '  pack: "yes"', 'devices:', ...device('a')],
      [expect.stringMatching(/^site\.yaml:6:9: buffer\.pack: /)]],
    ['max_pack_bytes that is not a size', [...HEAD, 'buffer:', '  max_pack_bytes: lots', 'devices:', ...device('a')],
      [expect.stringMatching(/^site\.yaml:6:19: buffer\.max_pack_bytes: "lots" is not a size/)]],
  ])('%s', (_name, rows, expected) => {
    expect(problems(lines(...rows))).toEqual(expected);
  });
});
