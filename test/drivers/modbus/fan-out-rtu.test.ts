// Fan-out end to end: one site-file entry with a profile and `unit_id: [1, 2, "4-5"]` becomes four
// devices on one RS-485 bus (a socat pty pair) served by pymodbus; each publishes its own unit's
// values, and unit 3 (not listed) is never asked.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drivers } from '../../../drivers/index.js';
import { collect, registerBrokerCleanup, startMosquitto } from '../../integration/harness/index.js';
import { startTestGateway } from '../../integration/harness/test-gateway.js';
import { startPymodbus, startSocat, type TableSpec } from './helpers/processes.js';
import { tempDirs } from '../../support/temp-dirs.js';

registerBrokerCleanup();
const tempDir = tempDirs('fg-fan-');

const PROFILE = `version: "2024.1"
driver: modbus
interval: 100ms
timeout: 300ms
points:
  - { name: temperature, table: input, address: 0, type: int16, scale: 0.1, unit: C }
  - { name: serial, table: holding, address: 10, type: uint32 }
`;

describe('fan-out over an RTU bus', () => {
  it('makes one device per listed unit id, named from the template, each reading its own unit', async () => {
    const dir = tempDir();
    const socat = await startSocat(path.join(dir, 'ttyA'), path.join(dir, 'ttyB'));
    const units: Record<string, TableSpec> = {};
    for (const u of [1, 2, 3, 4, 5]) units[String(u)] = { ir: { '0': [200 + u] }, hr: { '10': [0, 1000 + u] } };
    const server = await startPymodbus({ mode: 'rtu', path: path.join(dir, 'ttyB'), baud: 19200, units });
    const broker = await startMosquitto();
    const sub = await collect(broker.url, 'fan/#');
    fs.mkdirSync(path.join(dir, 'profiles'));
    fs.writeFileSync(path.join(dir, 'profiles', 'th-sensor.yaml'), PROFILE);
    const gw = await startTestGateway({
      drivers,
      dir,
      siteYaml: `site: fan
mqtt: { url: ${broker.url} }
buffer: { path: buffer.db }
devices:
  - name: "th-{unit_id}"
    profile: th-sensor
    rtu: { port: ${path.join(dir, 'ttyA')}, baud_rate: 19200 }
    unit_id: [1, 2, "4-5"]
    overrides: { temperature: { deadband: 100 } }
`,
    });
    try {
      expect(gw.gateway.resolvedSite.devices.map((d) => d.name)).toEqual(['th-1', 'th-2', 'th-4', 'th-5']);
      const want = ['th-1', 'th-2', 'th-4', 'th-5'].flatMap((d) => [`fan/${d}/temperature`, `fan/${d}/serial`]);
      await sub.waitFor((m) => want.every((t) => m.some((x) => x.topic === t)), 15_000);
      const value = (topic: string) => JSON.parse(sub.messages.find((x) => x.topic === topic)!.payload.toString()).value;
      for (const u of [1, 2, 4, 5]) {
        expect(value(`fan/th-${u}/temperature`)).toBeCloseTo((200 + u) / 10);
        expect(value(`fan/th-${u}/serial`)).toBe(1000 + u);
      }
      expect(sub.messages.some((x) => x.topic.startsWith('fan/th-3/'))).toBe(false);
    } finally {
      await gw.stop({ keepDir: true });
      await sub.close();
      await broker.dispose();
      await server.stop();
      await socat.stop();
    }
  }, 60_000);
});
