// `fieldgate scan` against pymodbus: which units answer (an exception counts, silence does not),
// their FC 43/14 identification, and the profiles whose identify: block they satisfy; over TCP and
// over an RTU bus on a socat pty pair.
import fs from 'node:fs';
import { cli } from '../../support/run-cli.js';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../integration/harness/free-port.js';
import { startPymodbus, startSocat } from './helpers/processes.js';
import { tempDirs } from '../../support/temp-dirs.js';

const tempDir = tempDirs('fg-scan-');


/** A site folder with two profiles that identify themselves differently. */
function siteWithProfiles(): { dir: string; file: string } {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'profiles'));
  fs.writeFileSync(path.join(dir, 'profiles', 'three-phase.yaml'), `version: "1.0"
driver: modbus
identify:
  vendor: "^acme"
  product: "TP-3"
  registers: [{ table: input, address: 0, type: float32, min: 100, max: 300 }]
points: [{ name: voltage, table: input, address: 0, type: float32 }]
`);
  fs.writeFileSync(path.join(dir, 'profiles', 'counter.yaml'), `driver: modbus
identify: { registers: [{ table: holding, address: 11, equals: 340 }] }
points: [{ name: n, table: holding, address: 0 }]
`);
  fs.writeFileSync(path.join(dir, 'profiles', 'plain.yaml'), 'driver: modbus\npoints: [{ name: n, table: holding, address: 0 }]\n');
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, 'site: s\nmqtt: { url: "mqtt://127.0.0.1:1" }\ndevices: [{ name: d, profile: plain, tcp: { host: h } }]\n');
  return { dir, file };
}

describe('fieldgate scan', () => {
  it('over TCP: lists the units that answer, their identification and the matching profiles', async () => {
    const port = await freePort();
    const server = await startPymodbus({
      mode: 'tcp', port,
      identity: { VendorName: 'ACME Meters', ProductCode: 'TP-3', MajorMinorRevision: '1.04' },
      units: {
        '1': { values: [{ table: 'ir', address: 0, type: 'float32', value: 230.5 }] },
        '2': { hr: { '11': [340] } },
        '6': { values: [{ table: 'ir', address: 0, type: 'float32', value: 5 }] },
      },
    });
    try {
      const { file } = siteWithProfiles();
      const r = await cli(['scan', '--tcp', `127.0.0.1:${port}`, '--units', '1-3,5-6', '--timeout', '150ms', '-c', file]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const blocks = r.out.split(/\n(?=unit )/);
      // The site's two profiles with identify:, and the shipped library's.
      expect(blocks[0]).toMatch(/^scanning 5 unit id\(s\) on 127\.0\.0\.1:\d+, timeout 150ms; \d+ profile\(s\) with identify:/);
      expect(Number(/(\d+) profile/.exec(blocks[0]!)![1])).toBeGreaterThan(2);
      // A plausible voltage and frequency also satisfy the shipped single-phase meter's test.
      expect(blocks.find((b) => b.startsWith('unit 1:'))).toMatch(/identification: vendor "ACME Meters", product code "TP-3", revision "1\.04".*\n  profiles: .*three-phase \(version 1\.0\)/s);
      expect(blocks.find((b) => b.startsWith('unit 2:'))).toMatch(/profiles: counter$/);
      // Unit 6 has the vendor and product, but its voltage register is implausible.
      expect(blocks.find((b) => b.startsWith('unit 6:'))).toMatch(/profiles: none matches/);
      expect(r.out).not.toMatch(/^unit [35]:/m);
      expect(r.out).toMatch(/^3 of 5 unit id\(s\) answered$/m);
    } finally {
      await server.stop();
    }
  });

  it('over an RTU bus: silent unit ids are skipped, a unit answering with an exception counts', async () => {
    const { dir } = siteWithProfiles();
    const socat = await startSocat(path.join(dir, 'ttyA'), path.join(dir, 'ttyB'));
    const server = await startPymodbus({ mode: 'rtu', path: path.join(dir, 'ttyB'), baud: 19200, units: { '2': { hr: { '11': [340] } }, '4': {} } });
    try {
      const r = await cli(['scan', '--rtu', path.join(dir, 'ttyA'), '--baud', '19200', '--units', '1-5', '--timeout', '150ms']);
      expect(r.code).toBe(0);
      expect(r.out.match(/^unit \d+/gm)).toEqual(['unit 2', 'unit 4']);
      expect(r.out).toMatch(/^2 of 5 unit id\(s\) answered$/m);
    } finally {
      await server.stop();
      await socat.stop();
    }
  });

  it('refuses unclear arguments with a usage line', async () => {
    for (const args of [['scan'], ['scan', '--tcp', 'h', '--rtu', 'p'], ['scan', '--tcp', 'h', '--units', '9-3'], ['scan', '--rtu', 'p', '--parity', 'mark']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.err).toMatch(/usage: fieldgate scan/);
    }
  });
});
