// Modbus RTU over TCP (a serial device server in transparent mode) and Modbus ASCII, against
// pymodbus servers with its RTU and ASCII framers: values, writes, two unit ids sharing one device
// server as one bus, and a device server that goes away and comes back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modbusDriver, type ModbusDeviceConfig, type ModbusPointConfig } from '../../../drivers/modbus/index.js';
import type { ModbusDriver } from '../../../drivers/modbus/modbus-driver.js';
import type { Driver } from '../../../src/driver-api/index.js';
import { freePort } from '../../integration/harness/free-port.js';
import { byName, eventually, fakeContext, TestResources } from './helpers/fake-context.js';
import { startPymodbus, startSocat } from './helpers/processes.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const UNITS = {
  '1': { hr: { '0': [101, 102, 103] }, co: { '0': [1] }, values: [{ table: 'ir' as const, address: 10, type: 'float32', value: 230.5 }] },
  '2': { hr: { '0': [201, 202, 203] } },
};

const POINTS_1: ModbusPointConfig[] = [
  { name: 'r0', table: 'holding', address: 0 },
  { name: 'r2', table: 'holding', address: 2 },
  { name: 'relay', table: 'coil', address: 0, writable: true },
  { name: 'v', table: 'input', address: 10, type: 'float32' },
];
const POINTS_2: ModbusPointConfig[] = [{ name: 'r1', table: 'holding', address: 1, writable: true }];

function driver(device: ModbusDeviceConfig, res: TestResources) {
  const withDefaults = modbusDriver.withDefaults!(device);
  expect(modbusDriver.check!(withDefaults)).toEqual([]);
  const rec = fakeContext(res, device.name);
  const d = modbusDriver.create(withDefaults, rec.ctx) as Driver & ModbusDriver;
  cleanups.push(() => d.stop());
  return { d, rec };
}

describe('Modbus RTU over TCP (pymodbus TCP server with its RTU framer)', () => {
  const device = (name: string, unit: number, port: number, points: ModbusPointConfig[]): ModbusDeviceConfig => ({
    name, driver: 'modbus', tcp: { host: '127.0.0.1', port, framing: 'rtu' }, unit_id: unit, timeout: '1s',
    reconnect: { initial: '50ms', max: '200ms' }, points,
  });

  it('two unit ids behind one device server share one line; reads and writes are RTU frames', async () => {
    const port = await freePort();
    let server = await startPymodbus({ mode: 'tcp', port, framer: 'rtu', units: UNITS });
    cleanups.push(() => server.stop());
    const res = new TestResources();
    const a = driver(device('a', 1, port, POINTS_1), res);
    const b = driver(device('b', 2, port, POINTS_2), res);
    expect(modbusDriver.resources!(device('a', 1, port, POINTS_1))).toEqual(modbusDriver.resources!(device('b', 2, port, POINTS_2)));
    await a.d.start();
    await b.d.start();
    expect(res.created).toBe(1);
    const first = await eventually(() => a.d.poll(), () => true, 5000);
    expect(byName(first)).toMatchObject({ r0: { value: 101 }, r2: { value: 103 }, relay: { value: true }, v: { value: 230.5 } });
    // Both devices at once on the one line: requests go out one at a time and each gets its answer.
    const [ra, rb] = await Promise.all([a.d.poll(), b.d.poll()]);
    expect(byName(ra).r0!.value).toBe(101);
    expect(byName(rb).r1!.value).toBe(202);
    await a.d.write('relay', false);
    await b.d.write('r1', 4242);
    expect(byName(await a.d.poll()).relay!.value).toBe(false);
    expect(byName(await b.d.poll()).r1!.value).toBe(4242);
    expect([...a.rec.errors, ...b.rec.errors]).toEqual([]);

    // The device server goes away and comes back: both devices report it and recover by themselves.
    await server.stop();
    await eventually(() => a.d.poll().catch(() => null), () => a.rec.errors.length > 0, 3000);
    server = await startPymodbus({ mode: 'tcp', port, framer: 'rtu', units: UNITS });
    const back = await eventually(() => b.d.poll(), () => true, 5000);
    expect(byName(back).r1!.value).toBe(202);
    await eventually(() => a.d.poll(), (r) => byName(r).r0!.value === 101 && a.rec.recovered > 0, 5000);
    expect(res.created).toBe(1);
  });

  it('plain Modbus TCP framing against the same server gets no answer it can use', async () => {
    // The check that framing matters: an RTU-framed server does not understand MBAP requests.
    const port = await freePort();
    const server = await startPymodbus({ mode: 'tcp', port, framer: 'rtu', units: UNITS });
    cleanups.push(() => server.stop());
    const plain = driver({ ...device('p', 1, port, POINTS_2), tcp: { host: '127.0.0.1', port }, timeout: '300ms' }, new TestResources());
    await plain.d.start();
    await expect(eventually(() => plain.d.poll(), (r) => r[0]!.quality === 'good', 1500)).rejects.toThrow(/condition not met/);
  });
});

describe('Modbus ASCII (socat pty + pymodbus serial server with its ASCII framer)', () => {
  // ASCII slaves usually run 7E1; a pty refuses 7 data bits (EINVAL), and carries bytes whatever
  // the line settings, so both ends use 8N1 here: what is tested is the framing.
  it('reads and writes an ASCII slave', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldgate-ascii-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const [ttyA, ttyB] = [join(dir, 'ttyA'), join(dir, 'ttyB')];
    const socat = await startSocat(ttyA, ttyB);
    cleanups.push(() => socat.stop());
    const server = await startPymodbus({ mode: 'rtu', path: ttyB, framer: 'ascii', units: UNITS });
    cleanups.push(() => server.stop());
    const res = new TestResources();
    const { d, rec } = driver({
      name: 'ascii', driver: 'modbus', rtu: { port: ttyA, mode: 'ascii' }, unit_id: 1,
      timeout: '1s', reconnect: { initial: '50ms', max: '200ms' }, points: POINTS_1,
    }, res);
    await d.start();
    const first = await eventually(() => d.poll(), (r) => r.every((x) => x.quality === 'good'), 5000);
    expect(byName(first)).toMatchObject({ r0: { value: 101 }, r2: { value: 103 }, relay: { value: true }, v: { value: 230.5 } });
    await d.write('relay', false);
    expect(byName(await d.poll()).relay!.value).toBe(false);
    expect(modbusDriver.plan!(modbusDriver.withDefaults!({ name: 'x', driver: 'modbus', rtu: { port: ttyA, mode: 'ascii' }, points: POINTS_1 }))).toMatch(/^modbus ascii .* unit 1/);
    expect(rec.errors.filter((e) => e.kind !== 'timeout' && e.kind !== 'connection')).toEqual([]);
  });
});
