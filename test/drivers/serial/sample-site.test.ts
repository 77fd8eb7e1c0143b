// drivers/serial/sample.yaml must stay a valid site file for the config loader, and two devices
// claiming one port must be refused.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DeviceConfigBase, DriverEntry, DriverFactory } from '../../../src/driver-api/index.js';
import { validateSiteText } from '../../../src/config/validate-site.js';
import { drivers } from '../../../drivers/index.js';
import { serialDriver } from '../../../drivers/serial/index.js';

const samplePath = fileURLToPath(new URL('../../../drivers/serial/sample.yaml', import.meta.url));
const sample = readFileSync(samplePath, 'utf8');

// drivers/index.ts gets its serial line from the lead; until then the test adds the factory itself.
const driverList: readonly DriverEntry[] = drivers.some((d) => d.type === 'serial')
  ? drivers
  : [...drivers, serialDriver as DriverFactory<DeviceConfigBase>];

const validate = (text: string) => validateSiteText(text, samplePath, {}, driverList, { hostname: 'test' });

describe('drivers/serial/sample.yaml', () => {
  it('validates with the driver list', () => {
    const site = validate(sample);
    expect(site.config.devices.map((d) => [d.name, d['format'], d['request'] ?? 'listen'])).toEqual([
      ['weather', 'regex', 'R\r\n'],
      ['flow-meter', 'csv', 'listen'],
      ['gas-detector', 'kv', 'listen'],
      ['cold-store', 'json', 'listen'],
    ]);
    for (const device of site.config.devices) {
      expect(serialDriver.plan!(device as Parameters<NonNullable<typeof serialDriver.plan>>[0])).toContain(device.name);
    }
  });

  it('reports a point field that is not a group of the pattern', () => {
    expect(() => validate(sample.replace('field: set', 'field: setpoint'))).toThrow(/no group named "setpoint"/);
  });

  it('refuses two serial devices on one port', () => {
    expect(() => validate(sample.replace('port: /dev/ttyUSB2', 'port: /dev/ttyUSB1'))).toThrow(/ttyUSB1/);
  });

  it('refuses unknown keys and bad values in a serial device', () => {
    const text = sample.replace('baud_rate: 19200', 'baud_rate: 19200\n    parity_bits: 1').replace('stop_bits: 1', 'stop_bits: 3');
    expect(() => validate(text)).toThrow(/parity_bits[\s\S]*stop_bits|stop_bits[\s\S]*parity_bits/);
  });
});
