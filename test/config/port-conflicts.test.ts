// Physical resources are claimed across drivers: one serial port cannot serve a serial-line device
// and anything else, while Modbus RTU devices may share a bus when their line settings agree.
import { describe, expect, it } from 'vitest';
import { validateSiteText } from '../../src/config/validate-site.js';
import { ConfigError } from '../../src/config/config-error.js';
import { drivers } from '../../drivers/index.js';

const head = 'site: s\nmqtt: { url: "mqtt://127.0.0.1:1883" }\ndevices:\n';
const serial = (name: string, port: string) =>
  `  - name: ${name}\n    driver: serial\n    port: ${port}\n    format: csv\n    points:\n      - { name: t, field: 0 }\n`;
const rtu = (name: string, port: string, unit: number, baud = 9600) =>
  `  - name: ${name}\n    driver: modbus\n    rtu: { port: ${port}, baud_rate: ${baud} }\n    unit_id: ${unit}\n    points:\n      - { name: v, table: holding, address: 0, type: uint16 }\n`;

function errors(text: string): string {
  try {
    validateSiteText(text, '/etc/fieldgate/site.yaml', {}, drivers);
    return '';
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.format();
  }
}

describe('serial port conflicts across drivers', () => {
  it('two serial-line devices on one port', () => {
    const out = errors(head + serial('a', '/dev/ttyUSB0') + serial('b', '/dev/ttyUSB0'));
    expect(out).toMatch(/\/etc\/fieldgate\/site\.yaml:\d+:\d+: .*\/dev\/ttyUSB0/);
    expect(out).toMatch(/\ba\b[\s\S]*\bb\b|\bb\b[\s\S]*\ba\b/);
  });

  it('a serial-line device and a Modbus RTU device on one port', () => {
    const out = errors(head + serial('weather', '/dev/ttyUSB0') + rtu('meter', '/dev/ttyUSB0', 1));
    expect(out).toMatch(/ttyUSB0/);
    expect(out).toMatch(/weather/);
    expect(out).toMatch(/meter/);
  });

  it('Modbus RTU devices share a bus with equal settings, not with different baud rates', () => {
    expect(errors(head + rtu('m1', '/dev/ttyUSB0', 1) + rtu('m2', '/dev/ttyUSB0', 2))).toBe('');
    const out = errors(head + rtu('m1', '/dev/ttyUSB0', 1) + rtu('m2', '/dev/ttyUSB0', 2, 19200));
    expect(out).toMatch(/ttyUSB0/);
    expect(out).toMatch(/9600/);
    expect(out).toMatch(/19200/);
  });

  it('different ports do not conflict', () => {
    expect(errors(head + serial('a', '/dev/ttyUSB0') + rtu('m', '/dev/ttyUSB1', 1))).toBe('');
  });
});
