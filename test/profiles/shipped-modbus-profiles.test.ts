// Each shipped Modbus profile against a simulated device: pymodbus (an encoder independent of
// the driver) serves the profile's registers with known values; a device built from the shipped
// profile reads them back scaled, and `identify:` recognises the simulated device.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modbusDriver, type ModbusDeviceConfig, type ModbusPointConfig } from '../../drivers/modbus/index.js';
import { scanBus } from '../../drivers/modbus/bus-scan.js';
import { parseIdentify } from '../../drivers/modbus/identify.js';
import type { Driver } from '../../src/driver-api/index.js';
import { validateSiteText } from '../../src/config/validate-site.js';
import { parse } from 'yaml';
import { drivers } from '../../drivers/index.js';
import { freePort } from '../integration/harness/free-port.js';
import { byName, fakeContext } from '../drivers/modbus/helpers/fake-context.js';
import { startPymodbus, type TableSpec } from '../drivers/modbus/helpers/processes.js';

const LIBRARY = path.resolve(import.meta.dirname, '../../profiles');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Raw values the simulated device holds, by point name (what the register holds, before scale). */
const SIMULATED: Record<string, { raw: Record<string, number | string>; extra?: TableSpec['values'] }> = {
  sdm630: {
    raw: {
      voltage_l1: 230.5, voltage_l2: 231.25, voltage_l3: 229.75, current_l1: 5.5, current_l2: 4.25, current_l3: 6.125,
      power_l1: 1250.5, power_l2: 980.25, power_l3: 1400.75, power: 3631.5, power_factor: 0.96875, frequency: 50.0625,
      energy_import: 12345.5, energy_export: 12.25, energy_total: 12357.75,
    },
  },
  sdm120: {
    raw: {
      voltage: 231.5, current: 2.25, power: 512.5, apparent_power: 520.25, reactive_power: 90.5, power_factor: 0.984375,
      frequency: 49.96875, energy_import: 800.5, energy_export: 1.5, energy_total: 802,
    },
  },
  'xy-md02': { raw: { temperature: 215, humidity: 487 } },
  'sunspec-inverter-103': {
    raw: {
      manufacturer: 'ACME Solar', model: 'SUN-10K', ac_current: 1450, ac_current_l1: 483, ac_current_l2: 484, ac_current_l3: 483,
      ac_current_sf: -2, voltage_l1: 2301, voltage_l2: 2312, voltage_l3: 2298, voltage_sf: -1, ac_power: 9870, ac_power_sf: 0,
      frequency: 5001, frequency_sf: -2, energy: 4_123_456, energy_sf: 0, dc_power: 10120, dc_power_sf: 0,
      cabinet_temperature: 412, temperature_sf: -1, operating_state: 4,
    },
    extra: [
      { table: 'hr', address: 40000, type: 'uint32', value: 0x53756e53 },
      { table: 'hr', address: 40070, type: 'uint16', value: 103 },
    ],
  },
};

function profileText(name: string): Record<string, unknown> {
  return parse(fs.readFileSync(path.join(LIBRARY, `${name}.yaml`), 'utf8')) as Record<string, unknown>;
}

/** The device a site gets from `profile: <name>` (the shipped library, found as in production). */
function deviceFrom(name: string, port: number): ModbusDeviceConfig {
  const site = validateSiteText(
    `site: s\nmqtt: { url: "mqtt://127.0.0.1:1" }\ndevices: [{ name: d, profile: ${name}, tcp: { host: 127.0.0.1, port: ${port} }, timeout: 2s }]\n`,
    '/nonexistent/site.yaml', { STATE_DIRECTORY: '/tmp' }, drivers,
  );
  return site.devices[0] as unknown as ModbusDeviceConfig;
}

function unitSpec(points: readonly ModbusPointConfig[], sim: (typeof SIMULATED)[string]): TableSpec {
  const values: NonNullable<TableSpec['values']> = [...(sim.extra ?? [])];
  for (const p of points) {
    const raw = sim.raw[p.name];
    if (raw === undefined) throw new Error(`no simulated value for ${p.name}`);
    values.push({ table: p.table === 'input' ? 'ir' : 'hr', address: p.address, type: p.type ?? 'uint16', order: p.order ?? 'ABCD', value: raw, ...(p.length === undefined ? {} : { length: p.length }) });
  }
  return { values };
}

describe('shipped Modbus profiles against their simulated devices', () => {
  it('covers every Modbus profile of the library', () => {
    const modbus = fs.readdirSync(LIBRARY).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).filter((n) => profileText(n).driver === 'modbus');
    expect(modbus.sort()).toEqual(Object.keys(SIMULATED).sort());
  });

  it.each(Object.keys(SIMULATED))('%s: reads every point and is recognised by its identify: block', async (name) => {
    const port = await freePort();
    const device0 = deviceFrom(name, port);
    const sim = SIMULATED[name]!;
    const peer = await startPymodbus({ mode: 'tcp', port, units: { '1': unitSpec(device0.points, sim) } });
    cleanups.push(() => peer.stop());

    expect(device0.profile).toBe(name);
    expect(modbusDriver.check!(device0)).toEqual([]);
    const rec = fakeContext();
    const driver = modbusDriver.create(device0, rec.ctx) as Driver;
    cleanups.push(() => driver.stop());
    await driver.start?.();
    const readings = byName(await driver.poll!());
    for (const p of device0.points) {
      const raw = sim.raw[p.name]!;
      const got = readings[p.name];
      expect(got?.quality, `${name}.${p.name}`).toBe('good');
      if (typeof raw === 'string') expect(got?.value).toBe(raw);
      else expect(Number(got?.value), `${name}.${p.name}`).toBeCloseTo(raw, 5);
    }
    await driver.stop();

    // Every Modbus profile's identify: against this device. A three-phase meter also has what the
    // single-phase profile looks for (a voltage and a frequency); nothing else may match.
    const candidates = Object.keys(SIMULATED).map((profile) => {
      const parsed = parseIdentify(profileText(profile).identify);
      if ('problem' in parsed) throw new Error(parsed.problem);
      return { profile, rule: parsed.rule };
    });
    const [unit] = await scanBus({ link: { kind: 'tcp', host: '127.0.0.1', port, framing: 'tcp' }, units: [1], timeoutMs: 1000, candidates });
    expect(unit?.matches.map((m) => m.profile).sort()).toEqual(name === 'sdm630' ? ['sdm120', 'sdm630'] : [name]);
  });
});
