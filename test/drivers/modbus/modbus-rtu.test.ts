// Modbus RTU over a socat pty pair: two devices (unit ids 1 and 2 of a pymodbus RTU server) share
// one bus, a silent unit does not stall them, an unplugged adapter comes back, CRC errors heal.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modbusDriver, type ModbusDeviceConfig, type ModbusPointConfig } from '../../../drivers/modbus/index.js';
import type { ModbusDriver } from '../../../drivers/modbus/modbus-driver.js';
import type { Driver } from '../../../src/driver-api/index.js';
import { byName, eventually, fakeContext, TestResources } from './helpers/fake-context.js';
import { startPymodbus, startSocat, type Peer } from './helpers/processes.js';

let dir = '';
let ttyA = '';
let ttyB = '';
const cleanups: (() => Promise<void> | void)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fieldgate-rtu-'));
  ttyA = join(dir, 'ttyA');
  ttyB = join(dir, 'ttyB');
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

const UNITS = {
  '1': { hr: { '0': [101, 102, 103] }, co: { '0': [1] } },
  '2': { hr: { '0': [201, 202, 203] }, ir: { '10': [0x4366, 0x8000] } },
};

async function bus(): Promise<{ socat: Peer; server: Peer }> {
  const socat = await startSocat(ttyA, ttyB);
  cleanups.push(() => socat.stop());
  const server = await startPymodbus({ mode: 'rtu', path: ttyB, units: UNITS });
  cleanups.push(() => server.stop());
  return { socat, server };
}



function rtuDevice(name: string, unit: number, points: ModbusPointConfig[], extra: Partial<ModbusDeviceConfig> = {}): ModbusDeviceConfig {
  return {
    name, driver: 'modbus', rtu: { port: ttyA, baud_rate: 9600 }, unit_id: unit, timeout: '1s',
    reconnect: { initial: '50ms', max: '200ms' }, points, ...extra,
  };
}

function driver(device: ModbusDeviceConfig, res = new TestResources()) {
  expect(modbusDriver.check!(device)).toEqual([]);
  const rec = fakeContext(res, device.name);
  const d = modbusDriver.create(device, rec.ctx) as Driver & ModbusDriver;
  cleanups.push(() => d.stop());
  return { d, rec };
}

/**
 * First successful poll. On a shared CI machine a fresh pty can be briefly unusable (another
 * process's stale lock on a recycled /dev/pts number) or the Python peer slow to answer its first
 * frame; the driver copes (reports and retries), and the assertions start from a working bus.
 */
async function warm(dev: { d: Driver & ModbusDriver; rec: ReturnType<typeof fakeContext> }) {
  const readings = await eventually(() => dev.d.poll(), () => true, 5000);
  dev.rec.errors.length = 0;
  dev.rec.recovered = 0;
  return readings;
}

const meterA = () => rtuDevice('a', 1, [
  { name: 'r0', table: 'holding', address: 0 },
  { name: 'r2', table: 'holding', address: 2 },
  { name: 'relay', table: 'coil', address: 0, writable: true },
]);
const meterB = () => rtuDevice('b', 2, [
  { name: 'r1', table: 'holding', address: 1 },
  { name: 'f', table: 'input', address: 10, type: 'float32' },
  { name: 'missing', table: 'input', address: 50 },
]);

describe('Modbus RTU on a shared bus (socat pty + pymodbus RTU)', () => {
  it('two unit ids on one port share one bus object and are polled fairly', async () => {
    await bus();
    const res = new TestResources();
    const a = driver(meterA(), res);
    const b = driver(meterB(), res);
    expect(modbusDriver.resources!(meterA())).toEqual(modbusDriver.resources!(meterB()));
    await a.d.start();
    await b.d.start();
    expect(res.created).toBe(1);
    expect([...res.refCounts().values()][0]).toBe(2);
    await warm(a);
    // Different cadences at once: a polls 3 times while b polls twice.
    const [ra, rb] = await Promise.all([
      (async () => { const out = []; for (let i = 0; i < 3; i++) out.push(await a.d.poll()); return out; })(),
      (async () => { const out = []; for (let i = 0; i < 2; i++) out.push(await b.d.poll()); return out; })(),
    ]);
    expect(byName(ra[2]!)).toMatchObject({ r0: { value: 101 }, r2: { value: 103 }, relay: { value: true } });
    expect(byName(rb[1]!)).toMatchObject({ r1: { value: 202 }, f: { value: 230.5 }, missing: { quality: 'bad' } });
    await a.d.write('relay', false);
    expect(byName(await a.d.poll()).relay!.value).toBe(false);
    expect(a.rec.errors).toEqual([]);
    expect(b.rec.errors.map((e) => e.kind)).toEqual(['exception']);
    // Releasing one device keeps the bus for the other.
    await a.d.stop();
    expect(res.size).toBe(1);
    expect(byName(await b.d.poll()).r1!.value).toBe(202);
    await b.d.stop();
    expect(res.size).toBe(0);
  });

  it('a silent unit costs the others at most its own timeout', async () => {
    await bus();
    const res = new TestResources();
    const a = driver(meterA(), res);
    // Three reads per poll: a bus that served whole polls would hold a for 3 × 600 ms.
    const ghost = driver(rtuDevice('ghost', 7, [0, 100, 200].map((address) => ({ name: `x${address}`, table: 'holding' as const, address })),
      { timeout: '600ms' }), res);
    expect(ghost.d.currentPlan).toHaveLength(3);
    await a.d.start();
    await ghost.d.start();
    await warm(a);
    const g0 = Date.now();
    const dead = ghost.d.poll().then(() => null, (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await a.d.poll(); // two reads
    // At most one ghost timeout plus a's own reads (slack for a loaded machine), far from 3 × 600.
    expect(Date.now() - t0).toBeLessThan(2 * 600);
    expect(await dead).toMatchObject({ code: 'timeout' });
    // The ghost's poll gives up after its first silent read instead of timing out three times.
    expect(Date.now() - g0).toBeLessThan(2 * 600);
    expect(ghost.rec.errors.map((e) => e.kind)).toEqual(['timeout']);
    expect(a.rec.errors).toEqual([]);
  });

  it('an adapter that disappears and comes back: both devices report and recover', async () => {
    let peers = await bus();
    const res = new TestResources();
    const a = driver(meterA(), res);
    const b = driver(meterB(), res);
    await a.d.start();
    await b.d.start();
    await warm(a);
    await warm(b);
    // Unplug: the pty vanishes under the open port.
    await peers.socat.stop();
    await peers.server.stop();
    for (const dev of [a, b]) {
      await eventually(() => dev.d.poll().catch(() => null), () => dev.rec.errors.some((e) => e.kind === 'connection'), 3000);
    }
    await new Promise((r) => setTimeout(r, 300)); // a few reconnect attempts against a missing port
    peers = await bus();
    // Requests sent before the new peer opened its end may be answered late or not at all; the
    // first poll without a fault reports the recovery.
    const backA = await eventually(() => a.d.poll(), () => a.rec.recovered > 0, 5000);
    const backB = await eventually(() => b.d.poll(), () => b.rec.recovered > 0, 5000);
    expect(byName(backA).r0!.value).toBe(101);
    expect(byName(backB).r1!.value).toBe(202);
    expect(a.rec.recovered).toBe(1);
    expect(b.rec.recovered).toBe(1);
    expect(res.created).toBe(1);
  });

  it('CRC errors are reported as crc and heal on the next good answer', async () => {
    const socat = await startSocat(ttyA, ttyB);
    cleanups.push(() => socat.stop());
    // A hand-made RTU device: answers FC 3 for unit 1 with 0x1234 in every register; `corruptNext` answers carry a broken CRC.
    const port = new SerialPort({ path: ttyB, baudRate: 9600 });
    cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
    await new Promise<void>((resolve, reject) => port.once('open', resolve).once('error', reject));
    let corruptNext = 0;
    let pending = Buffer.alloc(0);
    port.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      if (pending.length < 8) return;
      const req = pending.subarray(0, 8);
      pending = pending.subarray(8);
      const count = req.readUInt16BE(4);
      const res = Buffer.alloc(3 + count * 2 + 2);
      res[0] = req[0]!;
      res[1] = 3;
      res[2] = count * 2;
      for (let i = 0; i < count; i++) res.writeUInt16BE(0x1234, 3 + i * 2);
      res.writeUInt16LE(crc16(res.subarray(0, res.length - 2)), res.length - 2);
      if (corruptNext > 0) {
        corruptNext -= 1;
        res[res.length - 1]! ^= 0xff;
      }
      port.write(res);
    });
    const { d, rec } = driver(rtuDevice('crc', 1, [{ name: 'v', table: 'holding', address: 0 }]));
    await d.start();
    expect((await warm({ d, rec }))[0]).toMatchObject({ value: 0x1234, quality: 'good' });
    corruptNext = 2;
    await expect(d.poll()).rejects.toMatchObject({ code: 'crc' });
    await expect(d.poll()).rejects.toMatchObject({ code: 'crc' });
    expect(rec.errors.map((e) => e.kind)).toEqual(['crc', 'crc']);
    expect((await d.poll())[0]).toMatchObject({ value: 0x1234, quality: 'good' });
    expect(rec.recovered).toBe(1);
  });
});

/** Modbus CRC-16 (polynomial 0xA001, initial 0xFFFF), sent low byte first. */
function crc16(buf: Buffer): number {
  let crc = 0xffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
