import { describe, expect, it } from 'vitest';
import { summarizeSite } from '../../src/config/summarize-site.js';
import { lines, validate } from './site-fixtures.js';

describe('summarizeSite', () => {
  it('lists site, broker, buffer, http and devices without credentials', () => {
    const text = lines(
      'site: plant-7', 'gateway: gw-01', 'mqtt:', '  urls: ["mqtts://gw:${PW}@a:8883", "mqtts://b:8883"]', '  protocol_version: 5',
      '  username: gw', '  password: ${PW}', '  tls: {}', 'buffer: { path: /var/lib/fg/buffer.db }', 'http: { listen: "127.0.0.1:9464" }', 'devices:',
      '  - { name: boiler, driver: sim, interval: 100ms, points: [{ name: a, signal: sine }, { name: b, signal: counter }] }',
      '  - { name: m1, driver: bus, port: /dev/ttyS0, points: [{ name: c, register: 1 }] }',
    );
    const summary = summarizeSite(validate(text, { PW: 'topsecret' }));
    expect(summary).toBe(
      [
        'site plant-7, gateway gw-01',
        'broker mqtts://a:8883, mqtts://b:8883 (MQTT 5, QoS 1, TLS, user gw)',
        'buffer /var/lib/fg/buffer.db (at most 1000000 messages or 256MiB, drop_oldest)',
        'http 127.0.0.1:9464',
        '2 devices, 3 points:',
        '  boiler  sim  every 100ms  2 points',
        '  m1      bus  every 1s     1 point',
      ].join('\n'),
    );
    expect(summary).not.toContain('topsecret');
  });
});
