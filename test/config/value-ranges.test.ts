// Every duration and size in the site file has a range, checked at validation with the value's
// line:col: a value past a timer's reach or a size run would refuse never gets through `validate`.
import { describe, expect, it } from 'vitest';
import { deviceSchemaFor, topLevelSchema } from '../../src/config/site-schema.js';
import { drivers } from '../../drivers/index.js';
import { lines, problems, validate } from './site-fixtures.js';

const HEAD = ['site: plant-7', 'gateway: gw-01', 'mqtt:', '  url: mqtt://127.0.0.1:1883'];
const SIM = ['  - name: sim1', '    driver: sim', '    points:', '      - name: temp', '        signal: sine'];

/** Every (pointer, schema) below `schema` that takes a duration or a size. */
function unitKeys(schema: unknown, where: string, out: [string, Record<string, unknown>][] = []): [string, Record<string, unknown>][] {
  if (Array.isArray(schema)) schema.forEach((s, i) => unitKeys(s, `${where}/${i}`, out));
  else if (schema !== null && typeof schema === 'object') {
    const s = schema as Record<string, unknown>;
    if (s.format === 'duration' || s.format === 'size') out.push([where, s]);
    for (const [k, v] of Object.entries(s)) unitKeys(v, `${where}/${k}`, out);
  }
  return out;
}

describe('duration and size ranges', () => {
  it('every duration and size key of the core and of every driver declares a range', () => {
    const schemas = [topLevelSchema(), ...drivers.map((d) => deviceSchemaFor(d))];
    const keys = schemas.flatMap((s, i) => unitKeys(s, i === 0 ? '#' : `#${drivers[i - 1]!.type}`));
    expect(keys.length).toBeGreaterThan(15);
    const missing = keys.filter(([, s]) =>
      s.format === 'duration' ? !(typeof s.minDuration === 'string' && typeof s.maxDuration === 'string') : !(s.minSize !== undefined && s.maxSize !== undefined),
    );
    expect(missing.map(([p]) => p)).toEqual([]);
  });

  it.each([
    ['interval past the timer limit is fine up to 366d', ['  - name: sim1', '    driver: sim', '    interval: 30d', '    points:', '      - name: temp', '        signal: sine']],
    ['a day-long heartbeat', [...SIM, '        heartbeat: 2d']],
    ['keepalive 0s (off) and at the MQTT maximum', ['  keepalive: 65535s', 'devices:']],
    ['commit_interval at its maximum', ['buffer:', '  commit_interval: 10s', 'devices:']],
    ['sync_interval at its maximum', ['buffer:', '  sync_interval: 30s', 'devices:']],
    ['memory_fallback off (0) and at its maximum', ['buffer:', '  memory_fallback: 0', 'devices:']],
    ['memory_fallback at its maximum', ['buffer:', '  memory_fallback: 1GiB', 'devices:']],
  ])('accepts %s', (_name, rows) => {
    const text = rows[rows.length - 1] === 'devices:' ? lines(...HEAD, ...rows, ...SIM) : lines(...HEAD, 'devices:', ...rows);
    expect(() => validate(text)).not.toThrow();
  });

  const TOO_MANY_DIGITS = '9'.repeat(400);
  it.each([
    ['an interval beyond 366 days', ['devices:', '  - name: sim1', '    driver: sim', '    interval: 400d', '    points:', '      - name: temp', '        signal: sine'],
      'site.yaml:8:15: devices[0].interval: "400d" is longer than the maximum 366d'],
    ['an absurd interval', ['devices:', '  - name: sim1', '    driver: sim', '    interval: 99999999999999999999d', '    points:', '      - name: temp', '        signal: sine'],
      'site.yaml:8:15: devices[0].interval: "99999999999999999999d" is longer than the maximum 366d'],
    ['a duration of 400 digits (Infinity)', ['devices:', '  - name: sim1', '    driver: sim', `    interval: ${TOO_MANY_DIGITS}ms`, '    points:', '      - name: temp', '        signal: sine'],
      `site.yaml:8:15: devices[0].interval: "${TOO_MANY_DIGITS}ms" is longer than the maximum 366d`],
    ['a zero interval', ['devices:', '  - name: sim1', '    driver: sim', '    interval: 0s', '    points:', '      - name: temp', '        signal: sine'],
      'site.yaml:8:15: devices[0].interval: must be longer than 0'],
    ['connect_timeout of 25 days', ['  connect_timeout: 25d', 'devices:', ...SIM], 'site.yaml:5:20: mqtt.connect_timeout: "25d" is longer than the maximum 10m'],
    ['keepalive above MQTT\'s 65535 s', ['  keepalive: 65536s', 'devices:', ...SIM], 'site.yaml:5:14: mqtt.keepalive: "65536s" is longer than the maximum 65535s'],
    ['a refused_retry that would hammer', ['  refused_retry: 1ms', 'devices:', ...SIM], 'site.yaml:5:18: mqtt.refused_retry: "1ms" is shorter than the minimum 100ms'],
    ['a heartbeat beyond 366 days', ['devices:', ...SIM, '        heartbeat: 367d'], 'site.yaml:11:20: devices[0].points[0].heartbeat: "367d" is longer than the maximum 366d'],
    ['unhealthy_after beyond 30 days', ['http:', '  listen: 127.0.0.1:9464', '  unhealthy_after: 31d', 'devices:', ...SIM],
      'site.yaml:7:20: http.unhealthy_after: "31d" is longer than the maximum 30d'],
    ['max_bytes "0" (run refuses it)', ['buffer:', '  max_bytes: "0"', 'devices:', ...SIM], 'site.yaml:6:14: buffer.max_bytes: "0" is below the minimum 64KiB'],
    ['max_bytes 0', ['buffer:', '  max_bytes: 0', 'devices:', ...SIM], 'site.yaml:6:14: buffer.max_bytes: 0 is below the minimum 64KiB'],
    ['max_bytes of 400 digits', ['buffer:', `  max_bytes: "${TOO_MANY_DIGITS}"`, 'devices:', ...SIM],
      `site.yaml:6:14: buffer.max_bytes: "${TOO_MANY_DIGITS}" is above the maximum 1024GiB`],
    ['max_bytes .inf', ['buffer:', '  max_bytes: .inf', 'devices:', ...SIM], 'site.yaml:6:14: buffer.max_bytes: expected text or a whole number, got Infinity'],
    ['max_bytes beyond 1024GiB', ['buffer:', '  max_bytes: 2000GiB', 'devices:', ...SIM], 'site.yaml:6:14: buffer.max_bytes: "2000GiB" is above the maximum 1024GiB'],
    ['max_pack_bytes too small', ['buffer:', '  max_pack_bytes: 10', 'devices:', ...SIM], 'site.yaml:6:19: buffer.max_pack_bytes: 10 is below the minimum 1KiB'],
    ['max_messages beyond a billion', ['buffer:', '  max_messages: 1e300', 'devices:', ...SIM], 'site.yaml:6:17: buffer.max_messages: 1e+300 is above the maximum 1000000000'],
    ['a commit_interval beyond 10s', ['buffer:', '  commit_interval: 1m', 'devices:', ...SIM], 'site.yaml:6:20: buffer.commit_interval: "1m" is longer than the maximum 10s'],
    ['a memory_fallback beyond 1GiB', ['buffer:', '  memory_fallback: 2GiB', 'devices:', ...SIM], 'site.yaml:6:20: buffer.memory_fallback: "2GiB" is above the maximum 1GiB'],
    ['a sync_interval under 100ms', ['buffer:', '  sync_interval: 10ms', 'devices:', ...SIM], 'site.yaml:6:18: buffer.sync_interval: "10ms" is shorter than the minimum 100ms'],
    ['a commit_interval that is not a duration', ['buffer:', '  commit_interval: soon', 'devices:', ...SIM], 'site.yaml:6:20: buffer.commit_interval: "soon" is not a duration (use e.g. 500ms, 5s, 1m)'],
    ['replay_rate .inf', ['buffer:', '  replay_rate: .inf', 'devices:', ...SIM], 'site.yaml:6:16: buffer.replay_rate: expected a number, got Infinity'],
    ['a sim period beyond 366 days', ['devices:', ...SIM, '        period: 400d'], 'site.yaml:11:17: devices[0].points[0].period: "400d" is longer than the maximum 366d'],
    ['a Modbus timeout of a day', ['devices:', '  - name: m1', '    driver: modbus', '    tcp: { host: 127.0.0.1 }', '    timeout: 1d', '    points:', '      - { name: a, table: holding, address: 0 }'],
      'site.yaml:9:14: devices[0].timeout: "1d" is longer than the maximum 5m'],
    ['a Modbus reconnect cap past the timer limit', ['devices:', '  - name: m1', '    driver: modbus', '    tcp: { host: 127.0.0.1 }', '    reconnect: { max: 30d }', '    points:', '      - { name: a, table: holding, address: 0 }'],
      'site.yaml:9:23: devices[0].reconnect.max: "30d" is longer than the maximum 1d'],
    ['a serial reply timeout of an hour', ['devices:', '  - name: s1', '    driver: serial', '    port: /dev/ttyUSB0', '    format: csv', '    request: "R"', '    timeout: 1h', '    points:', '      - { name: a, field: 0 }'],
      'site.yaml:11:14: devices[0].timeout: "1h" is longer than the maximum 5m'],
    ['a BLE connect timeout of 25 days', ['devices:', '  - name: b1', '    driver: ble', '    address: "C4:7C:8D:6A:12:34"', '    connect_timeout: 25d', '    points:', '      - { name: a, service: "181a", characteristic: "2a6e", type: int16le }'],
      'site.yaml:9:22: devices[0].connect_timeout: "25d" is longer than the maximum 10m'],
  ])('refuses %s at the value', (_name, rows, expected) => {
    expect(problems(lines(...HEAD, ...rows))).toEqual([expected]);
  });
});
