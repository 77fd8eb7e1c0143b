// Drivers are registered light (descriptor + load()) so a site carries only the libraries of the
// drivers it uses: no D-Bus/BLE stack for a Modbus-only site, no serialport without a serial
// device, the demo broker only in `demo`. Two views: which packages a fresh process has loaded after
// importing the CLI (the static import graph), and when the gateway calls load() (start, reload).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { drivers } from '../../drivers/index.js';
import { Gateway } from '../../src/gateway.js';
import { loadSite } from '../../src/config/load-site.js';
import type { DriverRegistration } from '../../src/driver-api/index.js';
import { REPO_ROOT, testLogger, writeSite } from '../integration/harness/test-gateway.js';
import { tempDirs } from '../support/temp-dirs.js';

const HEAVY = ['serialport', '@serialport/bindings-cpp', 'dbus-next', 'node-ble', 'modbus-serial', 'aedes'];

/** npm packages a fresh Node process has loaded after running `script` (an ES module body). */
function packagesLoadedBy(script: string): string[] {
  const probe = `
    import { createRequire } from 'node:module';
    ${script}
    const names = Object.keys(createRequire(import.meta.url).cache)
      .map((k) => /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(k)?.[1]).filter(Boolean);
    console.log(JSON.stringify([...new Set(names)]));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
}

describe('what the CLI loads', () => {
  it('importing the CLI and the driver list loads no driver library and not the demo broker', () => {
    const loaded = packagesLoadedBy(`await import('./src/cli.ts'); await import('./drivers/index.ts');`);
    expect(loaded).toContain('mqtt'); // the probe sees CommonJS packages at all
    expect(loaded.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it("a driver's load() brings in its own libraries only", () => {
    const loaded = packagesLoadedBy(`const { drivers } = await import('./drivers/index.ts'); await drivers.find((d) => d.type === 'modbus').load();`);
    expect(loaded).toContain('modbus-serial');
    expect(loaded.filter((p) => ['dbus-next', 'node-ble', 'aedes'].includes(p))).toEqual([]);
  });
});

describe('when the gateway loads a driver', () => {
  const tempDir = tempDirs('fieldgate-lazy-');

  it('loads each driver the site uses once, none it does not use, and a new one on reload', async () => {
    const calls: string[] = [];
    const counted: DriverRegistration[] = drivers.map((d) => ({ ...d, load: () => { calls.push(d.type); return d.load(); } }));
    const dir = tempDir();
    // Broker on a port nothing listens on: readings are journaled; this test is about drivers only.
    const head = ['site: lazy', 'mqtt:', '  url: mqtt://127.0.0.1:9', 'devices:'];
    const sim = (name: string) => [`  - name: ${name}`, '    driver: sim', '    interval: 1s', '    points:', '      - { name: p, signal: counter }'];
    const modbus = ['  - name: meter', '    driver: modbus', '    tcp: { host: 127.0.0.1, port: 9 }', '    interval: 1s',
      '    points:', '      - { name: v, table: holding, address: 0, type: uint16 }'];
    const file = writeSite(dir, [...head, ...sim('a'), ...sim('b'), ''].join('\n'));
    const gateway = new Gateway({ site: loadSite(file, {}, counted), drivers: counted, logger: testLogger() });
    await gateway.start();
    try {
      expect(calls).toEqual(['sim']);
      writeSite(dir, [...head, ...sim('a'), ...sim('b'), ...modbus, ''].join('\n'));
      await gateway.reload(loadSite(file, {}, counted));
      expect(calls).toEqual(['sim', 'modbus']);
    } finally {
      await gateway.stop({ drainMs: 0 });
    }
  });
});
