// drivers/modbus/sample.yaml must stay a valid site file, and the config loader must catch what
// the driver's schema and checks promise to catch.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { drivers } from '../../../drivers/index.js';
import { modbusDriver, type ModbusDeviceConfig } from '../../../drivers/modbus/index.js';
import { ConfigError } from '../../../src/config/config-error.js';
import { validateSiteText } from '../../../src/config/validate-site.js';

const SAMPLE = fileURLToPath(new URL('../../../drivers/modbus/sample.yaml', import.meta.url));

const validate = (text: string) => validateSiteText(text, SAMPLE, {}, drivers, { hostname: 'test' });

function problems(text: string): string[] {
  try {
    validate(text);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.line}: ${i.message}`);
  }
}

describe('drivers/modbus/sample.yaml', () => {
  const text = readFileSync(SAMPLE, 'utf8');

  it('is a valid site file', () => {
    expect(problems(text)).toEqual([]);
    const site = validate(text);
    const modbus = site.config.devices.filter((d) => d.driver === 'modbus') as ModbusDeviceConfig[];
    expect(modbus.map((d) => d.name)).toEqual(['meter-1', 'boiler-controller', 'heat-meter', 'zone-controller', 'pump-drive']);
  });

  it('plans every device', () => {
    const site = validate(text);
    for (const d of site.config.devices as ModbusDeviceConfig[]) {
      expect(modbusDriver.plan!(d)).toMatch(/^modbus (tcp|rtu) /);
    }
    expect(modbusDriver.plan!(site.config.devices[0] as ModbusDeviceConfig)).toContain('4 reads per poll for 11 points');
  });

  it('catches a second device on the bus with other line settings', () => {
    const broken = text.replace(
      /(name: pump-drive\n\s+driver: modbus\n\s+rtu: \{ port: \/dev\/ttyUSB0, baud_rate: )19200/,
      '$19600',
    );
    expect(broken).not.toBe(text);
    const found = problems(broken);
    expect(found.some((m) => /ttyUSB0/.test(m)), found.join('\n')).toBe(true);
  });

  it('reports schema and driver-check problems with their lines', () => {
    const broken = text
      .replace('type: float32, order: CDAB, unit: V, deadband: 0.5 }', 'type: float33, order: CDAB, unit: V, deadband: 0.5 }')
      .replace('{ name: volume, table: input, address: 2, type: float32, order: CDAB, unit: m3 }', '{ name: volume, table: input, address: 2, type: string, unit: m3 }');
    const found = problems(broken);
    expect(found.some((m) => /float33/.test(m)), found.join('\n')).toBe(true);
    expect(found.some((m) => /needs length/.test(m)), found.join('\n')).toBe(true);
  });
});
