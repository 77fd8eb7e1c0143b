// drivers/ble/sample.yaml must stay a valid site file: the config loader checks it with the
// driver list, BLE driver included.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DeviceConfigBase, DriverEntry, DriverFactory } from '../../../src/driver-api/index.js';
import { validateSiteText } from '../../../src/config/validate-site.js';
import { drivers } from '../../../drivers/index.js';
import { bleDriver } from '../../../drivers/ble/index.js';

const samplePath = fileURLToPath(new URL('../../../drivers/ble/sample.yaml', import.meta.url));

// drivers/index.ts gets its BLE line from the lead; until then the test adds the factory itself.
const driverList: readonly DriverEntry[] = drivers.some((d) => d.type === 'ble')
  ? drivers
  : [...drivers, bleDriver as DriverFactory<DeviceConfigBase>];

describe('drivers/ble/sample.yaml', () => {
  it('validates with the driver list', () => {
    const site = validateSiteText(readFileSync(samplePath, 'utf8'), samplePath, {}, driverList, { hostname: 'test' });
    const devices = site.config.devices.map((d) => [d.name, d.driver, d['advertisement'] ?? 'gatt']);
    expect(devices).toEqual([
      ['cold-room', 'ble', 'gatt'],
      ['freezer-probe', 'ble', 'gatt'],
      ['fridge-tag', 'ble', 'ruuvi'],
      ['door-sensor', 'ble', 'bthome'],
    ]);
  });

  it('is rejected when a point names a field its format lacks', () => {
    const text = readFileSync(samplePath, 'utf8').replace('field: battery_voltage', 'field: battery_level');
    expect(() => validateSiteText(text, samplePath, {}, driverList, { hostname: 'test' })).toThrow(/no field "battery_level"/);
  });
});
