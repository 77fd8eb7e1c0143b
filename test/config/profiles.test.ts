// Device profiles and fan-out: what a device becomes (overrides, omit/add, extends, fan-out
// naming), and where problems are reported (inside profile files, naming the device).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { validateSiteText } from '../../src/config/validate-site.js';
import type { ResolvedSite } from '../../src/config/resolved-site.js';
import { planReload } from '../../src/config/reload-plan.js';
import { drivers } from '../../drivers/index.js';
import { lines } from './site-fixtures.js';

const HEAD = ['site: plant-7', 'mqtt: { url: "mqtt://127.0.0.1:1883" }'];
const METER = lines(
  'version: "1.2"', //                                                  1
  'driver: modbus', //                                                  2
  'interval: 5s', //                                                    3
  'timeout: 500ms', //                                                  4
  'points:', //                                                         5
  '  - { name: voltage, table: input, address: 0, type: float32, unit: V }', // 6
  '  - { name: current, table: input, address: 6, type: float32, unit: A }', // 7
  '  - { name: energy, table: input, address: 20, type: uint32, unit: kWh, scale: 0.001 }', // 8
);

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

/** A site folder with the given files (relative paths → text); returns the site file's path. */
function folder(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-prof-'));
  roots.push(root);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return path.join(root, 'site.yaml');
}

function load(files: Record<string, string>, ...rows: string[]): ResolvedSite {
  const file = folder(files);
  return validateSiteText(lines(...HEAD, ...rows), file, { STATE_DIRECTORY: path.dirname(file) }, drivers, { profileLibrary: null });
}

/** `file:line:col: message` with the folder left out. */
function problems(files: Record<string, string>, ...rows: string[]): string[] {
  const file = folder(files);
  try {
    validateSiteText(lines(...HEAD, ...rows), file, { STATE_DIRECTORY: path.dirname(file) }, drivers, { profileLibrary: null });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${path.relative(path.dirname(file), i.file)}:${i.line}:${i.col}: ${i.message}`);
  }
}

const pointsOf = (site: ResolvedSite, device: string) =>
  site.devices.find((d) => d.name === device)!.points.map((p) => ({ ...p })) as Record<string, unknown>[];

describe('profile resolution', () => {
  it('builds a device from profiles/<name>.yaml: driver, defaults and points, with its own link and the profile named', () => {
    const site = load({ 'profiles/meter.yaml': METER },
      'devices:',
      '  - { name: m1, profile: meter, tcp: { host: 10.0.0.5 }, unit_id: 4 }',
    );
    const d = site.devices[0]! as Record<string, unknown>;
    expect(d).toMatchObject({ name: 'm1', driver: 'modbus', interval: '5s', timeout: '500ms', unit_id: 4, profile: 'meter', profile_version: '1.2' });
    expect(pointsOf(site, 'm1').map((p) => p.name)).toEqual(['voltage', 'current', 'energy']);
  });

  it.each([
    {
      title: 'device keys replace the profile defaults',
      device: ['interval: 1s'],
      check: (s: ResolvedSite) => expect(s.devices[0]!.interval).toBe('1s'),
    },
    {
      title: 'overrides set per-point keys; a named override wins over "*"',
      device: ['overrides:', '  "*": { deadband: 1, heartbeat: 60s }', '  voltage: { deadband: 0.5, topic: "x/{point}" }'],
      check: (s: ResolvedSite) => {
        const [v, c] = pointsOf(s, 'm1');
        expect(v).toMatchObject({ name: 'voltage', deadband: 0.5, heartbeat: '60s', topic: 'x/{point}', address: 0 });
        expect(c).toMatchObject({ name: 'current', deadband: 1, heartbeat: '60s' });
      },
    },
    {
      title: 'points_omit drops points, points_add appends new ones',
      device: ['points_omit: [current]', 'points_add:', '  - { name: frequency, table: input, address: 70, type: float32, unit: Hz }'],
      check: (s: ResolvedSite) => expect(pointsOf(s, 'm1').map((p) => p.name)).toEqual(['voltage', 'energy', 'frequency']),
    },
  ])('$title', ({ device, check }) => {
    const site = load({ 'profiles/meter.yaml': METER },
      'devices:',
      '  - name: m1',
      '    profile: meter',
      '    tcp: { host: 10.0.0.5 }',
      ...device.map((l) => `    ${l}`),
    );
    check(site);
  });

  it('a profile extends another: its keys and overlay apply on top, its own version counts', () => {
    const site = load({
      'profiles/meter.yaml': METER,
      'lib/meter-fast.yaml': lines('extends: meter', 'version: 2', 'interval: 500ms', 'points_omit: [energy]', 'overrides: { voltage: { unit: kV, scale: 0.001 } }'),
    },
    'profile_paths: [lib]',
    'devices:',
    '  - { name: m1, profile: meter-fast, tcp: { host: 10.0.0.5 } }',
    );
    expect(site.devices[0]).toMatchObject({ interval: '500ms', timeout: '500ms', profile: 'meter-fast', profile_version: '2' });
    expect(pointsOf(site, 'm1')).toMatchObject([{ name: 'voltage', unit: 'kV', scale: 0.001 }, { name: 'current', unit: 'A' }]);
  });

  it('a profiles: map in the site file works like a profile file, and shadows profiles/', () => {
    const site = load({ 'profiles/meter.yaml': METER },
      'profiles:',
      '  meter:',
      '    driver: modbus',
      '    points: [{ name: only, table: holding, address: 9 }]',
      'devices:',
      '  - { name: m1, profile: meter, tcp: { host: 10.0.0.5 } }',
    );
    expect(pointsOf(site, 'm1').map((p) => p.name)).toEqual(['only']);
    expect(site.devices[0]).not.toHaveProperty('profile_version');
  });

  it('fans one entry out over unit ids and ranges, naming each device from the template', () => {
    const site = load({ 'profiles/meter.yaml': METER },
      'devices:',
      '  - name: "meter-{unit_id}"',
      '    profile: meter',
      '    rtu: { port: /dev/ttyUSB0 }',
      '    unit_id: [1, 3, "5-7"]',
      '    tags: { bus_addr: "u{unit_id}" }',
      '  - { name: other, profile: meter, tcp: { host: 10.0.0.9 } }',
    );
    expect(site.devices.map((d) => [d.name, (d as Record<string, unknown>).unit_id, d.tags?.bus_addr])).toEqual([
      ['meter-1', 1, 'u1'], ['meter-3', 3, 'u3'], ['meter-5', 5, 'u5'], ['meter-6', 6, 'u6'], ['meter-7', 7, 'u7'], ['other', 1, undefined],
    ]);
  });

  it('fans BLE devices out over a list of addresses', () => {
    const site = load({},
      'devices:',
      '  - name: "ruuvi-{address}"',
      '    driver: ble',
      '    address: ["AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"]',
      '    advertisement: ruuvi',
      '    points: [{ name: temperature }]',
    );
    expect(site.devices.map((d) => [d.name, (d as Record<string, unknown>).address])).toEqual([
      ['ruuvi-AA_BB_CC_DD_EE_01', 'AA:BB:CC:DD:EE:01'], ['ruuvi-AA_BB_CC_DD_EE_02', 'AA:BB:CC:DD:EE:02'],
    ]);
  });
});

describe('reloading after a profile changed', () => {
  it('plans a restart of exactly the devices built from the changed profile, nothing else', () => {
    const rows = (unit: string) => [
      'profiles:',
      `  probe: { driver: sim, points: [{ name: level, signal: counter, unit: ${unit} }] }`,
      '  other: { driver: sim, points: [{ name: n, signal: counter }] }',
      'devices:',
      '  - { name: a, profile: probe }',
      '  - { name: "b{unit_id}", profile: meter, tcp: { host: 10.0.0.5 }, unit_id: [1, 2] }',
      '  - { name: c, profile: other }',
    ];
    const file = folder({ 'profiles/meter.yaml': METER });
    const at = (text: string) => validateSiteText(text, file, { STATE_DIRECTORY: path.dirname(file) }, drivers, { profileLibrary: null });
    const before = at(lines(...HEAD, ...rows('cm')));
    fs.writeFileSync(path.join(path.dirname(file), 'profiles/meter.yaml'), METER.replace('unit: A', 'unit: mA'));
    const after = at(lines(...HEAD, ...rows('mm')));
    const plan = planReload(before.config, after.config);
    expect(plan).toMatchObject({ reconnect: false, restartHttp: false, nextStart: [], stop: ['a', 'b1', 'b2'], start: ['a', 'b1', 'b2'] });
  });
});

describe('profile problems, where they are', () => {
  it('an unknown profile gets a did-you-mean at the device line', () => {
    expect(problems({ 'profiles/meter.yaml': METER },
      'devices:', //                                                    3
      '  - { name: m1, profile: metre, tcp: { host: 10.0.0.5 } }', //  4
    )).toEqual(["site.yaml:4:26: devices[0].profile: unknown profile 'metre' (did you mean 'meter'?)"]);
  });

  it('an unknown point in overrides or points_omit gets a did-you-mean', () => {
    expect(problems({ 'profiles/meter.yaml': METER },
      'devices:', //                                                    3
      '  - name: m1', //                                                4
      '    profile: meter', //                                          5
      '    tcp: { host: 10.0.0.5 }', //                                 6
      '    points_omit: [curent]', //                                   7
      '    overrides: { voltag: { deadband: 1 }, energy: { address: 3 } }', // 8
    )).toEqual([
      "site.yaml:7:19: devices[0].points_omit[0]: no point 'curent' in profile 'meter' (did you mean 'current'?)",
      "site.yaml:8:18: devices[0].overrides.voltag: no point 'voltag' in profile 'meter' (did you mean 'voltage'?)",
      expect.stringMatching(/^site\.yaml:8:53: devices\[0\]\.overrides\.energy\.address: 'address' cannot be overridden/),
    ]);
  });

  it('a schema problem inside a profile file is reported at its line there, naming every device that uses it', () => {
    const broken = METER.replace('address: 6,', 'address: -6,');
    expect(problems({ 'profiles/meter.yaml': broken },
      'devices:',
      '  - { name: m1, profile: meter, tcp: { host: 10.0.0.5 } }',
      '  - { name: m2, profile: meter, tcp: { host: 10.0.0.6 } }',
    )).toEqual(["profiles/meter.yaml:7:45: points[1].address: -6 is below the minimum 0 (devices 'm1', 'm2')"]);
  });

  it('a semantic problem in a profile point is reported in the profile file too', () => {
    const broken = METER.replace("name: current, table: input, address: 6, type: float32", 'name: current, table: coil, address: 6, type: float32');
    const got = problems({ 'profiles/meter.yaml': broken }, 'devices:', '  - { name: m1, profile: meter, tcp: { host: 10.0.0.5 } }');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^profiles\/meter\.yaml:7:\d+: points\[1\].*\(device 'm1'\)$/);
  });

  it('a profile that is not valid YAML is reported once, in its file', () => {
    expect(problems({ 'profiles/meter.yaml': 'driver: modbus\npoints: [\n' },
      'devices:',
      '  - { name: m1, profile: meter, tcp: { host: 10.0.0.5 } }',
      '  - { name: m2, profile: meter, tcp: { host: 10.0.0.6 } }',
    )).toEqual([expect.stringMatching(/^profiles\/meter\.yaml:\d+:\d+: YAML: /)]);
  });

  it('rejects profiles that extend each other in a cycle, at the extends that closes it', () => {
    expect(problems({ 'profiles/a.yaml': 'extends: b\n', 'profiles/b.yaml': 'version: 1\nextends: a\n' },
      'devices:',
      '  - { name: m1, profile: a, tcp: { host: 10.0.0.5 } }',
    )).toEqual(["profiles/b.yaml:2:10: extends: profiles extend each other in a cycle: a → b → a (device 'm1')"]);
  });

  it('a profile that extends another keeps its driver', () => {
    expect(problems({ 'profiles/meter.yaml': METER, 'profiles/tag.yaml': 'extends: meter\ndriver: ble\n' },
      'devices:',
      '  - { name: m1, profile: tag, tcp: { host: 10.0.0.5 } }',
    )).toEqual(["profiles/tag.yaml:2:9: driver: profile 'meter' is for driver 'modbus'; a profile that extends it is too (device 'm1')"]);
  });

  it('a device with a profile takes no points: of its own, and no other driver', () => {
    expect(problems({ 'profiles/meter.yaml': METER },
      'devices:', //                                                              3
      '  - { name: m1, profile: meter, driver: ble, tcp: { host: 10.0.0.5 },', // 4
      '      points: [{ name: x, table: coil, address: 1 }] }', //                  5
    )).toEqual([
      "site.yaml:4:41: devices[0].driver: profile 'meter' is for driver 'modbus'; leave driver: out or write 'modbus'",
      "site.yaml:5:7: devices[0].points: the points come from profile 'meter': add points with points_add, change them with overrides, drop them with points_omit",
    ]);
  });

  it('points_add may not repeat a profile point', () => {
    expect(problems({ 'profiles/meter.yaml': METER },
      'devices:', //                                                              3
      '  - { name: m1, profile: meter, tcp: { host: 10.0.0.5 },', //               4
      '      points_add: [{ name: energy, table: input, address: 40 }] }', //      5
    )).toEqual([
      "site.yaml:5:28: devices[0].points_add[0].name: point 'energy' is already in profile 'meter'; change it with overrides, or list it in points_omit first",
    ]);
  });

  it('fan-out needs the id in the name, and each id is checked where it is listed', () => {
    expect(problems({ 'profiles/meter.yaml': METER },
      'devices:', //                                                                  3
      '  - { name: m, profile: meter, tcp: { host: 10.0.0.5 }, unit_id: [1, 2] }', //  4
      '  - { name: "n{unit_id}", profile: meter, tcp: { host: 10.0.0.5 }, unit_id: [1, 300, "9-3"] }', // 5
    )).toEqual([
      'site.yaml:4:13: devices[0].name: one entry makes 2 devices (unit_id: a list): put {unit_id} in the name so each gets its own, e.g. "m-{unit_id}"',
      'site.yaml:5:86: devices[1].unit_id[2]: unit_id: the range "9-3" runs backwards; write "3-9"',
    ]);
    expect(problems({ 'profiles/meter.yaml': METER },
      'devices:', //                                                                  3
      '  - { name: "n{unit_id}", profile: meter, tcp: { host: 10.0.0.5 }, unit_id: [1, 300] }', // 4
    )).toEqual(["site.yaml:4:81: devices[0].unit_id[1]: 300 is above the maximum 255 (device 'n300')"]);
  });

  it('a profile_paths entry that is no directory is reported', () => {
    expect(problems({ 'profiles/meter.yaml': METER },
      'profile_paths: [lib, profiles]', //                                  3
      'devices:',
      '  - { name: m1, profile: meter, tcp: { host: 10.0.0.5 } }',
    )).toEqual([expect.stringMatching(/^site\.yaml:3:17: profile_paths\[0\]: no directory \/.*\/lib$/)]);
  });

  it('a device after a fanned-out entry is still reported at its own index', () => {
    expect(problems({ 'profiles/meter.yaml': METER },
      'devices:', //                                                                         3
      '  - { name: "n{unit_id}", profile: meter, tcp: { host: 10.0.0.5 }, unit_id: [1, 2] }', // 4
      '  - { name: s, driver: sim, points: [{ name: t, signal: sin }] }', //                  5
    )).toEqual([expect.stringMatching(/^site\.yaml:5:\d+: devices\[1\]\.points\[0\]\.signal: /)]);
  });

  it('a secret a profile file takes from ${VAR} is masked as the environment wrote it, not only as the number it became', () => {
    // Plain digits turn into a number (1.2345678901234568e+22): only the text itself can be found
    // again where a message quotes it.
    const secret = '12345678901234567890123';
    const file = folder({ 'profiles/meter.yaml': lines(METER, 'api_key: ${K}') });
    const rows = [...HEAD, `payload: "${secret}"`, 'devices:', '  - { name: m1, profile: meter, tcp: { host: 10.0.0.5 } }'];
    let err: unknown;
    try {
      validateSiteText(lines(...rows), file, { STATE_DIRECTORY: path.dirname(file), K: secret }, drivers, { profileLibrary: null });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.secrets).toContain(secret);
    expect(e.format()).toMatch(/payload: "\*\*\*"/);
    expect(e.format()).not.toContain(secret);
  });
});
