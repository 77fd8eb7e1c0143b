// SunSpec-style scale factors (scale_register): the arithmetic table-tested, the plan reading each
// factor register once in the same poll, the checks, and a poll against pymodbus with a shared
// factor, an unimplemented factor (0x8000) and a factor register the device refuses.
import { afterEach, describe, expect, it } from 'vitest';
import { modbusDriver, type ModbusDeviceConfig, type ModbusPointConfig } from '../../../drivers/modbus/index.js';
import { compileDevice, checkDevice } from '../../../drivers/modbus/device-config.js';
import { applyScaleFactor } from '../../../drivers/modbus/scale-factor.js';
import type { Driver, Reading } from '../../../src/driver-api/index.js';
import { freePort } from '../../integration/harness/free-port.js';
import { byName, fakeContext } from './helpers/fake-context.js';
import { startPymodbus } from './helpers/processes.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const good = (value: Reading['value']): Reading => ({ point: 'p', value, ts: 1, quality: 'good' });

describe('applyScaleFactor', () => {
  const cases: [string, Reading['value'], Reading | undefined, unknown][] = [
    ['sf -1', 2317, good(-1), 231.7],
    ['sf -2', 12345, good(-2), 123.45],
    ['sf 0', 7, good(0), 7],
    ['sf 3', 12, good(3), 12000],
    ['int64 value', 5n, good(-1), 0.5],
    ['not implemented', 2317, good(-32768), 'bad: scale factor holding 9 is not implemented (0x8000)'],
    ['out of range', 2317, good(11), 'bad: scale factor holding 9 is 11, outside -10..10'],
    ['bad factor', 2317, { point: 'sf', value: null, quality: 'bad', error: 'timeout' }, 'bad: scale factor holding 9 unreadable: timeout'],
    ['missing factor', 2317, undefined, 'bad: scale factor holding 9 unreadable'],
  ];
  it.each(cases)('%s', (_t, value, factor, expected) => {
    const r = applyScaleFactor(good(value), factor, 'holding 9');
    expect(r.quality === 'bad' ? `bad: ${r.error}` : r.value).toEqual(expected);
  });

  it('leaves a bad value as it is', () => {
    const bad: Reading = { point: 'p', value: null, quality: 'bad', error: 'timeout' };
    expect(applyScaleFactor(bad, good(-1), 'holding 9')).toBe(bad);
  });
});

const tcp = (port: number, points: ModbusPointConfig[]): ModbusDeviceConfig => ({
  name: 'inverter', driver: 'modbus', tcp: { host: '127.0.0.1', port }, unit_id: 1, timeout: '2s',
  reconnect: { initial: '50ms', max: '200ms' }, points,
});

const POINTS: ModbusPointConfig[] = [
  { name: 'a_l1', table: 'holding', address: 0, scale_register: { table: 'holding', address: 4 } },
  { name: 'a_l2', table: 'holding', address: 1, scale_register: { table: 'holding', address: 4 } },
  { name: 'energy', table: 'holding', address: 2, type: 'uint32', scale_register: { table: 'holding', address: 5 } },
  { name: 'hz', table: 'input', address: 0, type: 'int16', scale_register: { table: 'input', address: 1 } },
  { name: 'temp', table: 'input', address: 2, scale_register: { table: 'input', address: 40 } },
  { name: 'plain', table: 'input', address: 3 },
];

describe('scale_register in the plan and the checks', () => {
  it('reads each factor register once, in the same reads as the values', () => {
    const compiled = compileDevice(tcp(502, POINTS));
    expect(compiled.scaleFactors.map((s) => `${s.table} ${s.address} ${s.spec.type}`)).toEqual(['holding 4 int16', 'holding 5 int16', 'input 1 int16', 'input 40 int16']);
    expect(compiled.plan.map((r) => `${r.table} ${r.start}+${r.count}`)).toEqual(['holding 0+6', 'input 0+4', 'input 40+1']);
    expect(compiled.points.map((p) => p.scaleFrom)).toEqual([6, 6, 7, 8, 9, undefined]);
  });

  it('refuses a factor on text, bits and writable points', () => {
    const issues = checkDevice(tcp(502, [
      { name: 's', table: 'holding', address: 0, type: 'string', length: 2, scale_register: { table: 'holding', address: 9 } },
      { name: 'c', table: 'coil', address: 0, scale_register: { table: 'holding', address: 9 } },
      { name: 'w', table: 'holding', address: 5, writable: true, scale_register: { table: 'holding', address: 9 } },
    ]));
    expect(issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'points.0.scale_register: a scale factor applies to numbers, not to string',
      'points.1.scale_register: a scale factor applies to numbers, not to coil points',
      'points.2.scale_register: a point with scale_register cannot be writable',
    ]);
  });
});

describe('scale_register against pymodbus', () => {
  it('applies 10^sf read in the same poll; an unimplemented or unreadable factor makes only its points bad', async () => {
    const port = await freePort();
    const peer = await startPymodbus({
      mode: 'tcp', port,
      units: {
        '1': {
          // 2317, 1200, energy 123456 (uint32), sf -1 (0xffff) for currents, sf 2 for energy.
          hr: { '0': [2317, 1200, 1, 57920, 0xffff, 2] },
          // hz 5002 with sf -2; temp's factor at input 40 does not exist (exception 02).
          ir: { '0': [5002, 0xfffe, 215, 42] },
        },
      },
    });
    cleanups.push(() => peer.stop());
    const device = tcp(port, POINTS);
    expect(modbusDriver.check!(device)).toEqual([]);
    const rec = fakeContext();
    const d = modbusDriver.create(device, rec.ctx) as Driver;
    cleanups.push(() => d.stop());
    await d.start();
    const readings = byName(await d.poll!());
    expect(Object.fromEntries(Object.entries(readings).map(([k, r]) => [k, r.quality === 'bad' ? `bad: ${r.error}` : r.value]))).toEqual({
      a_l1: 231.7,
      a_l2: 120,
      energy: 12345600,
      hz: 50.02,
      temp: expect.stringMatching(/^bad: scale factor input 40 unreadable: .*illegal data address/i),
      plain: 42,
    });
  });
});
