// Every class of site-file error, with its exact line:col.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { BASE, lines, problems, validate } from './site-fixtures.js';

const SIM_DEVICE = ['  - name: sim1', '    driver: sim', '    points:', '      - name: temp', '        signal: sine'];
const HEAD = ['site: plant-7', 'gateway: gw-01', 'mqtt:', '  url: mqtt://127.0.0.1:1883'];

describe('validateSiteText positions', () => {
  it('accepts the base fixture', () => {
    expect(validate(BASE).config.devices).toHaveLength(1);
  });

  it('reports an unknown top-level key at the key, with a suggestion', () => {
    expect(problems(BASE + 'topc: "{site}/{point}"\n')).toEqual([
      "site.yaml:11:1: unknown key 'topc' (did you mean 'topic'?)",
    ]);
  });

  it('reports an unknown key in mqtt at the key', () => {
    const text = lines(...HEAD, '  usrname: bob', 'devices:', ...SIM_DEVICE);
    expect(problems(text)).toEqual(["site.yaml:5:3: mqtt: unknown key 'usrname' (did you mean 'username'?)"]);
  });

  it('reports an unknown key in a device at the key', () => {
    const text = lines(...HEAD, 'devices:', '  - name: sim1', '    driver: sim', '    intervall: 1s', '    points:', '      - name: temp', '        signal: sine');
    expect(problems(text)).toEqual(["site.yaml:8:5: devices[0]: unknown key 'intervall' (did you mean 'interval'?)"]);
  });

  it('reports an unknown key in a point at the key, including driver keys in the suggestion', () => {
    const text = BASE + '        amplitud: 3\n';
    expect(problems(text)).toEqual(["site.yaml:11:9: devices[0].points[0]: unknown key 'amplitud' (did you mean 'amplitude'?)"]);
  });

  it('reports a wrong type at the value', () => {
    const text = lines(...HEAD, '  qos: high', 'devices:', ...SIM_DEVICE);
    expect(problems(text)).toEqual(['site.yaml:5:8: mqtt.qos: "high" is not one of 0, 1, 2']);
    const text2 = lines(...HEAD, 'devices:', ...SIM_DEVICE, '        scale: ten');
    expect(problems(text2)).toEqual(['site.yaml:11:16: devices[0].points[0].scale: expected a number, got "ten"']);
  });

  it('suggests quotes when text was expected', () => {
    const text = lines(...HEAD, 'devices:', '  - name: sim1', '    driver: sim', '    tags: { floor: 3 }', '    points:', '      - name: temp', '        signal: sine');
    expect(problems(text)).toEqual(['site.yaml:8:20: devices[0].tags.floor: expected text, got 3 (put it in quotes: "3")']);
  });

  it('reports a bad duration in plain words', () => {
    const text = lines(...HEAD, 'devices:', '  - name: sim1', '    driver: sim', '    interval: 5 seconds', '    points:', '      - name: temp', '        signal: sine');
    expect(problems(text)).toEqual(['site.yaml:8:15: devices[0].interval: "5 seconds" is not a duration (use e.g. 500ms, 5s, 1m)']);
    const text2 = lines(...HEAD, '  keepalive: 30', 'devices:', ...SIM_DEVICE);
    expect(problems(text2)).toEqual(['site.yaml:5:14: mqtt.keepalive: 30 has no unit (use e.g. 30s or 30ms)']);
  });

  it('reports a bad size', () => {
    const text = lines(...HEAD, 'buffer:', '  max_bytes: 256 megs', 'devices:', ...SIM_DEVICE);
    expect(problems(text)).toEqual([
      'site.yaml:6:14: buffer.max_bytes: "256 megs" is not a size (use e.g. 256MiB, 10MB or a number of bytes)',
    ]);
  });

  it('reports a duplicate device name at the second name', () => {
    const text = BASE + lines('  - name: sim1', '    driver: sim', '    points:', '      - name: other', '        signal: counter');
    expect(problems(text)).toEqual(["site.yaml:11:11: devices[1].name: device name 'sim1' is already used on line 6"]);
  });

  it('reports a duplicate point name at the second name', () => {
    const text = BASE + lines('      - name: temp', '        signal: counter');
    expect(problems(text)).toEqual([
      "site.yaml:11:15: devices[0].points[1].name: point name 'temp' is already used in device 'sim1' on line 9",
    ]);
  });

  it('reports an unknown template variable where the template is written', () => {
    const text = BASE + '        topic: "{site}/{aera}/{point}"\n';
    expect(problems(text)).toEqual([
      'site.yaml:11:16: devices[0].points[0].topic: unknown template variable {aera} (available: {site}, {gateway}, {device}, {point})',
    ]);
    const tagged = lines(...HEAD, 'devices:', '  - name: sim1', '    driver: sim', '    tags: { area: north }', '    topic: "{site}/{aera}/{point}"', '    points:', '      - name: temp', '        signal: sine');
    expect(problems(tagged)).toEqual([
      'site.yaml:9:12: devices[0].topic: unknown template variable {aera} (did you mean {area}?) (available: {site}, {gateway}, {device}, {point}, {area})',
    ]);
  });

  it('reports a site-level template variable that one device lacks, naming the device', () => {
    const text = lines(
      'site: plant-7', 'mqtt:', '  url: mqtt://127.0.0.1:1883', 'topic: "{site}/{area}/{device}/{point}"', 'devices:',
      '  - name: a', '    driver: sim', '    tags: { area: north }', '    points: [{ name: t, signal: sine }]',
      '  - name: b', '    driver: sim', '    points: [{ name: t, signal: sine }]',
    );
    expect(problems(text)).toEqual([
      "site.yaml:4:8: topic: template variable {area} is not defined for device 'b' (available there: {site}, {gateway}, {device}, {point})",
    ]);
  });

  it('allows only {site} and {gateway} in client_id and status_topic', () => {
    const text = lines(...HEAD, '  client_id: "fg-{device}"', '  status_topic: "{site}/{point}/status"', 'devices:', ...SIM_DEVICE);
    expect(problems(text)).toEqual([
      'site.yaml:5:14: mqtt.client_id: unknown template variable {device} (only {site} and {gateway} can be used here)',
      'site.yaml:6:17: mqtt.status_topic: unknown template variable {point} (only {site} and {gateway} can be used here)',
    ]);
  });

  it('reports a referenced file that does not exist', () => {
    const text = lines('site: plant-7', 'mqtt:', '  url: mqtts://broker:8883', '  password_file: /nonexistent/fieldgate/pw', '  tls: { ca: /nonexistent/fieldgate/ca.pem }', 'devices:', ...SIM_DEVICE);
    expect(problems(text)).toEqual([
      'site.yaml:4:18: mqtt.password_file: file "/nonexistent/fieldgate/pw" does not exist',
      'site.yaml:5:14: mqtt.tls.ca: file "/nonexistent/fieldgate/ca.pem" does not exist',
    ]);
  });

  it('reports an unset environment variable at its scalar', () => {
    const text = lines(...HEAD, '  password: ${MQTT_PASSWORD}', 'devices:', ...SIM_DEVICE);
    expect(problems(text)).toEqual(['site.yaml:5:13: environment variable MQTT_PASSWORD is not set']);
    expect(validate(text, { MQTT_PASSWORD: 's3cret' }).config.mqtt.password).toBe('s3cret');
  });

  it('reports every YAML syntax error and nothing else', () => {
    const text = lines('site: plant-7', 'mqtt:', '  url: [mqtt://a', 'devices: 1', 'x: "unterminated');
    const found = problems(text);
    expect(found.length).toBeGreaterThanOrEqual(2);
    expect(found.every((p) => /^site\.yaml:\d+:\d+: YAML: /.test(p))).toBe(true);
    expect(found[0]).toMatch(/^site\.yaml:4:1: YAML: /);
    expect(found.at(-1)).toMatch(/^site\.yaml:6:1: YAML: Missing closing "quote/);
  });

  it('reports a duplicate key at the second occurrence', () => {
    const text = lines(...HEAD, '  url: mqtt://other:1883', 'devices:', ...SIM_DEVICE);
    expect(problems(text)).toEqual(["site.yaml:5:3: duplicate key 'url' (first defined on line 4)"]);
  });

  it('reports a resource conflict at the second device, naming both', () => {
    const bus = (name: string, baud: number) => [`  - name: ${name}`, '    driver: bus', '    port: /dev/ttyUSB0', `    baud: ${baud}`, '    points: [{ name: p, register: 1 }]'];
    const ok = lines('site: s', 'mqtt: { url: "mqtt://h" }', 'devices:', ...bus('m1', 9600), ...bus('m2', 9600));
    expect(validate(ok).config.devices).toHaveLength(2);
    const clash = lines('site: s', 'mqtt: { url: "mqtt://h" }', 'devices:', ...bus('m1', 9600), ...bus('m2', 19200));
    expect(problems(clash)).toEqual([
      "site.yaml:9:11: devices[1]: device 'm2' (19200 baud) and device 'm1' (9600 baud) on line 4 both use serial:/dev/ttyUSB0 with different settings",
    ]);
  });

  it("maps a driver's own check to the path it names", () => {
    const text = lines('site: s', 'mqtt: { url: "mqtt://h" }', 'devices:', '  - name: m1', '    driver: bus', '    port: /dev/ttyS0', '    points:', '      - name: p', '        register: 13');
    expect(problems(text)).toEqual(['site.yaml:9:19: devices[0].points[0].register: register 13 is unlucky']);
    const sim = lines(...HEAD, 'devices:', '  - name: sim1', '    driver: sim', '    points:', '      - name: c', '        signal: constant');
    expect(problems(sim)).toEqual(['site.yaml:9:9: devices[0].points[0]: a constant signal needs a value']);
  });

  it('words anyOf errors by the branch that fits the type', () => {
    const text = lines('site: s', 'mqtt: { url: "mqtt://h" }', 'devices:', '  - name: m1', '    driver: bus', '    port: /dev/ttyS0', '    points:',
      '      - { name: a, register: 1, field: true }', '      - { name: b, register: 1, field: -1 }');
    expect(problems(text)).toEqual([
      'site.yaml:8:40: devices[0].points[0].field: expected text or a whole number, got true',
      'site.yaml:9:40: devices[0].points[1].field: -1 is below the minimum 0',
    ]);
  });

  it('reports an unknown driver with a suggestion', () => {
    const text = BASE.replace('driver: sim', 'driver: simm');
    expect(problems(text)).toEqual(["site.yaml:7:13: devices[0].driver: unknown driver 'simm' (did you mean 'sim'?) (known drivers: sim, modbus, serial, ble, bus)"]);
  });

  it('reports missing required keys at the object', () => {
    expect(problems('site: plant-7\n')).toEqual([
      "site.yaml:1:1: missing required key 'devices'",
      "site.yaml:1:1: missing required key 'mqtt'",
    ]);
    const text = lines(...HEAD, 'devices:', '  - name: m1', '    driver: bus', '    points: [{ name: p }]');
    expect(problems(text)).toEqual([
      "site.yaml:6:5: devices[0]: missing required key 'port'",
      "site.yaml:8:14: devices[0].points[0]: missing required key 'register'",
    ]);
  });

  it('reports several errors of different kinds at once, sorted by position', () => {
    const text = lines(
      'site: plant 7', //                                  1 bad name
      'mqtt:', //                                          2
      '  url: http://broker:1883', //                      3 not mqtt
      '  password: ${PW}', //                              4 unset
      'buffer: { inflight: 0, when_full: drop_all }', //   5 two problems
      'devices:', //                                       6
      '  - name: a', //                                    7
      '    driver: sim', //                                8
      '    points:', //                                    9
      '      - { name: x, signal: sine, min: 5, max: 1 }', // 10 min > max
      '  - name: a', //                                    11 duplicate
      '    driver: sim', //                                12
      '    interval: 0s', //                               13
      '    points: [{ name: y, signal: counter, topic: "{site}/a/x" }]', // 14 collides with a/x
    );
    expect(problems(text)).toEqual([
      'site.yaml:1:7: site: "plant 7" is not valid (use letters, digits, _ . and -, not starting with . or -)',
      'site.yaml:3:8: mqtt.url: "http://broker:1883" is not an MQTT broker URL (use mqtt://host:1883, or mqtts://host:8883 for TLS)',
      'site.yaml:4:13: environment variable PW is not set',
      'site.yaml:5:21: buffer.inflight: 0 is below the minimum 1',
      'site.yaml:5:35: buffer.when_full: "drop_all" is not one of "drop_oldest", "drop_newest"',
      'site.yaml:10:39: devices[0].points[0]: min (5) is greater than max (1)',
      "site.yaml:11:11: devices[1].name: device name 'a' is already used on line 7",
      'site.yaml:13:15: devices[1].interval: must be longer than 0',
    ]);
  });

  it('reports colliding topics at the second point', () => {
    const text = lines(
      'site: p', 'mqtt: { url: "mqtt://h" }', 'devices:',
      '  - name: a', '    driver: sim', '    points:', '      - { name: x, signal: sine }',
      '  - name: b', '    driver: sim', '    points:', '      - { name: y, signal: sine, topic: "p/a/x" }',
    );
    expect(problems(text)).toEqual(['site.yaml:11:41: devices[1].points[0].topic: topic "p/a/x" is also used by point a/x (line 7)']);
  });

  it('reports a reading topic that is the command topic of a writable point', () => {
    const text = lines(
      'site: p', 'mqtt: { url: "mqtt://h" }', 'devices:',
      '  - name: a', '    driver: sim', '    points:',
      '      - { name: x, signal: constant, value: 1, writable: true }',
      '      - { name: y, signal: sine, topic: "p/a/x/set" }',
    );
    expect(problems(text)).toEqual([
      'site.yaml:8:41: devices[0].points[1].topic: topic "p/a/x/set" is the command topic of writable point a/x; its readings would be taken as commands',
    ]);
  });

  it('checks mqtt consistency: url xor urls, tls needs mqtts, password xor password_file, cert with key', () => {
    const both = lines('site: p', 'mqtt:', '  url: mqtt://a', '  urls: [mqtt://b]', 'devices:', ...SIM_DEVICE);
    expect(problems(both)).toEqual(['site.yaml:4:3: mqtt: give either url or urls, not both']);
    const neither = lines('site: p', 'mqtt:', '  qos: 1', 'devices:', ...SIM_DEVICE);
    expect(problems(neither)).toEqual(['site.yaml:2:1: mqtt: needs url (or urls for failover)']);
    const tls = lines('site: p', 'mqtt:', '  urls: [mqtts://a, mqtt://b]', '  tls: { servername: x, cert: package.json }', 'devices:', ...SIM_DEVICE);
    expect(problems(tls)).toEqual([
      'site.yaml:3:21: mqtt.urls[1]: the tls block needs mqtts:// URLs, not "mqtt://b"',
      'site.yaml:4:3: mqtt.tls: cert needs key (the client private key)',
    ]);
    const pw = lines('site: p', 'mqtt:', '  url: mqtt://a', '  password: x', '  password_file: /dev/null', 'devices:', ...SIM_DEVICE);
    expect(problems(pw)).toContain('site.yaml:5:3: mqtt: give either password or password_file, not both');
  });

  it('rejects tags that shadow built-in variables and bad names', () => {
    const text = lines(...HEAD, 'devices:', '  - name: sim 1', '    driver: sim', '    tags: { site: x, 9lives: y }', '    points:', '      - name: temp', '        signal: sine');
    expect(problems(text)).toEqual([
      'site.yaml:6:11: devices[0].name: "sim 1" is not valid (use letters, digits, _ . and -, not starting with . or -)',
      "site.yaml:8:22: devices[0].tags: '9lives' is not a valid name (use letters, digits and _, not starting with a digit)",
    ]);
    const shadow = lines(...HEAD, 'devices:', '  - name: sim1', '    driver: sim', '    tags: { site: x }', '    points:', '      - name: temp', '        signal: sine');
    expect(problems(shadow)).toEqual(["site.yaml:8:13: devices[0].tags: tag 'site' would hide the built-in {site}; pick another name"]);
  });

  it('reports an empty file and a file that is not a map', () => {
    expect(problems('# nothing here\n')).toEqual(['site.yaml:1:1: the site file is empty']);
    expect(problems('- a\n- b\n')).toEqual(['site.yaml:1:1: expected a map (key: value), got a list']);
  });

  it('throws a fatal ConfigError with code config_invalid and a readable message', () => {
    try {
      validate(BASE + 'bogus: 1\n');
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.code).toBe('config_invalid');
      expect(e.kind).toBe('fatal');
      expect(e.issues).toEqual([{ file: 'site.yaml', line: 11, col: 1, message: "unknown key 'bogus'" }]);
      expect(e.message).toBe("invalid site file (1 problem):\nsite.yaml:11:1: unknown key 'bogus'");
    }
  });
});
