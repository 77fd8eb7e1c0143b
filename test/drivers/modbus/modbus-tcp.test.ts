// The driver against modbus-serial's ServerTCP (the demo meter) and against raw TCP peers that
// misbehave on purpose: values, writes, exception-02 splits, restarts, silence, stale answers.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { modbusDriver, type ModbusDeviceConfig } from '../../../drivers/modbus/index.js';
import { REPLAN_AFTER_MS, type ModbusDriver } from '../../../drivers/modbus/modbus-driver.js';
import { meterDemoDevice, startModbusMeterSim, type MeterSim } from '../../../src/demo/modbus-meter-sim.js';
import { CommandError, DeviceError, type Driver } from '../../../src/driver-api/index.js';
import { freePort } from '../../integration/harness/free-port.js';
import { byName, eventually, fakeContext } from './helpers/fake-context.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function meter(port?: number, now?: () => number): Promise<MeterSim> {
  const sim = await startModbusMeterSim({ port: port ?? (await freePort()), ...(now ? { now } : {}) });
  cleanups.push(() => sim.stop());
  return sim;
}

const FAST_RECONNECT = { initial: '50ms', max: '200ms' };
// The demo's points; a generous timeout, since other test files load the machine meanwhile.
const meterDevice = (port: number): ModbusDeviceConfig => ({ ...meterDemoDevice(port), timeout: '2s' });

function driver(device: ModbusDeviceConfig) {
  expect(modbusDriver.check!(device)).toEqual([]);
  const rec = fakeContext();
  const d = modbusDriver.create(device, rec.ctx) as Driver & ModbusDriver;
  cleanups.push(() => d.stop());
  return { d, rec };
}

describe('Modbus TCP against the demo meter (modbus-serial ServerTCP)', () => {
  it('reads every point with plausible values, in 4 requests', async () => {
    let t = Date.now();
    const sim = await meter(undefined, () => t);
    const { d, rec } = driver(meterDevice(sim.port));
    await d.start();
    const first = byName(await d.poll());
    expect(d.currentPlan).toHaveLength(4);
    for (const r of Object.values(first)) expect(r.quality, `${r.point}: ${r.error}`).toBe('good');
    for (const v of ['voltage_l1', 'voltage_l2', 'voltage_l3']) {
      expect(first[v]!.value as number).toBeGreaterThan(220);
      expect(first[v]!.value as number).toBeLessThan(240);
    }
    expect(first.frequency!.value as number).toBeCloseTo(50, 0);
    expect(first.model!.value).toBe('FG-EM340');
    expect(first.power_limit!.value).toBe(20_000);
    expect(first.relay!.value).toBe(true);
    expect(first.over_limit!.value).toBe(false);
    t += 60_000; // a minute at ~6 kW: ~100 Wh
    const second = byName(await d.poll());
    expect(second.energy!.value as number).toBeGreaterThan((first.energy!.value as number) + 20);
    expect(rec.errors).toEqual([]);
  });

  it('writes holding registers and coils, reads them back, and rejects invalid writes unsent', async () => {
    const sim = await meter();
    const { d } = driver(meterDevice(sim.port));
    await d.start();
    await d.write('power_limit', 1500);
    expect(sim.state.powerLimit).toBe(1500);
    await d.write('relay', false);
    expect(sim.state.relay).toBe(false);
    const after = byName(await d.poll());
    expect(after.power_limit!.value).toBe(1500);
    expect(after.relay!.value).toBe(false);
    expect(after.current_l1!.value).toBe(0);

    for (const [point, value] of [['power_limit', 70_000], ['power_limit', 12.5], ['power_limit', 'x'], ['relay', 3],
      ['over_limit', true], ['voltage_l1', 230], ['nope', 1]] as const) {
      await expect(d.write(point, value), `${point} ${value}`).rejects.toBeInstanceOf(CommandError);
    }
    expect(sim.state.powerLimit).toBe(1500);
    expect(sim.state.relay).toBe(false);
  });

  it('splits a read refused with exception 02, remembers the split, and marks only the bad point', async () => {
    const sim = await meter();
    const device: ModbusDeviceConfig = {
      ...meterDevice(sim.port),
      max_gap: 40,
      points: [
        { name: 'voltage_l1', table: 'input', address: 0, type: 'float32', order: 'CDAB' },
        { name: 'bogus', table: 'input', address: 30, type: 'uint16' },
        { name: 'energy', table: 'input', address: 20, type: 'uint32' },
        { name: 'model', table: 'input', address: 40, type: 'string', length: 8 },
      ],
    };
    const { d, rec } = driver(device);
    let t = Date.now();
    rec.ctx.clock = { now: () => t };
    await d.start();
    expect(d.currentPlan.map((r) => [r.start, r.count])).toEqual([[0, 48]]);
    const readings = byName(await d.poll());
    expect(readings.voltage_l1!.quality).toBe('good');
    expect(readings.energy!.quality).toBe('good');
    expect(readings.model!.value).toBe('FG-EM340');
    expect(readings.bogus).toMatchObject({ quality: 'bad', value: null });
    expect(readings.bogus!.error).toMatch(/exception 02 \(illegal data address\)/);
    const plan = d.currentPlan.map((r) => [r.start, r.count]);
    expect(plan).toContainEqual([30, 1]);
    expect(plan.length).toBeGreaterThan(1);
    expect(rec.errors.map((e) => e.kind)).toEqual(['exception']);
    // The second poll runs the remembered plan: same result, no new report.
    const again = byName(await d.poll());
    expect(d.currentPlan.map((r) => [r.start, r.count])).toEqual(plan);
    expect(again.bogus!.quality).toBe('bad');
    expect(again.voltage_l1!.quality).toBe('good');
    expect(rec.errors).toHaveLength(1);
    // An hour later the compiled plan is tried again, and split the same way; nothing re-reported.
    const kept = d.currentPlan;
    t += REPLAN_AFTER_MS;
    const later = byName(await d.poll());
    expect(later.model!.quality).toBe('good');
    expect(d.currentPlan.map((r) => [r.start, r.count])).toEqual(plan);
    expect(d.currentPlan.filter((r, i) => r !== kept[i]).length).toBeGreaterThan(0); // re-split, not kept
    expect(rec.errors).toHaveLength(1);
  });

  it('reports a server that goes away and recovers when it comes back on the same port', async () => {
    const port = await freePort();
    let sim = await startModbusMeterSim({ port });
    cleanups.push(() => sim.stop());
    const { d, rec } = driver({ ...meterDevice(port), reconnect: FAST_RECONNECT });
    await d.start();
    await d.poll();
    await sim.stop();
    const err = await eventually(() => d.poll().then(() => null, (e: unknown) => e), (e) => e !== null, 3000);
    expect(err).toBeInstanceOf(DeviceError);
    await eventually(() => d.poll().catch(() => null), () => rec.errors.some((e) => e.kind === 'connection'), 3000);
    // Still down: every poll fails fast and says why.
    const t0 = Date.now();
    await expect(d.poll()).rejects.toThrow(/not connected|connection/);
    expect(Date.now() - t0).toBeLessThan(300); // no waiting for the 2 s timeout

    sim = await startModbusMeterSim({ port });
    const back = await eventually(() => d.poll(), () => rec.recovered > 0, 3000);
    expect(byName(back).model!.value).toBe('FG-EM340');
    expect(rec.recovered).toBe(1);
  });

  it('refuses connections → connection errors, never gives up', async () => {
    const port = await freePort();
    const { d, rec } = driver({ ...meterDevice(port), reconnect: FAST_RECONNECT });
    await d.start();
    await expect(eventually(() => d.poll(), () => true, 300)).rejects.toThrow();
    expect(rec.errors.every((e) => e.kind === 'connection')).toBe(true);
    expect(rec.errors.length).toBeGreaterThan(0);
    await meter(port);
    await eventually(() => d.poll(), () => rec.recovered > 0, 3000);
    expect(rec.recovered).toBe(1);
  });
});

/** A Modbus TCP peer written by hand: answers FC 3 with `answer(tid, n)` register values, after `delayFor(n)` ms. */
async function rawServer(handler: { delayFor(n: number): number | null; value(n: number): number }): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  let n = 0;
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    sock.on('data', (buf) => {
      for (let off = 0; off + 12 <= buf.length; off += 12) {
        const tid = buf.readUInt16BE(off);
        const unit = buf[off + 6]!;
        const count = buf.readUInt16BE(off + 10);
        const i = n++;
        const delay = handler.delayFor(i);
        if (delay === null) continue;
        const res = Buffer.alloc(9 + count * 2);
        res.writeUInt16BE(tid, 0);
        res.writeUInt16BE(3 + count * 2, 4);
        res[6] = unit;
        res[7] = 3;
        res[8] = count * 2;
        for (let k = 0; k < count; k++) res.writeUInt16BE(handler.value(i), 9 + k * 2);
        setTimeout(() => sock.writable && sock.write(res), delay);
      }
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  }));
  return { port, server };
}

const rawDevice = (port: number): ModbusDeviceConfig => ({
  name: 'raw', driver: 'modbus', tcp: { host: '127.0.0.1', port }, timeout: '150ms', reconnect: FAST_RECONNECT,
  points: [{ name: 'v', table: 'holding', address: 0 }],
});

describe('Modbus TCP against misbehaving peers', () => {
  it('a silent device: timeout errors, the connection is recycled, and polling resumes when it answers', async () => {
    let silent = true;
    const { port } = await rawServer({ delayFor: () => (silent ? null : 0), value: () => 7 });
    const { d, rec } = driver(rawDevice(port));
    await d.start();
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      await expect(d.poll()).rejects.toMatchObject({ code: 'timeout' });
      expect(Date.now() - t0).toBeLessThan(150 + 600);
    }
    expect(rec.errors.map((e) => e.kind)).toEqual(['timeout', 'timeout', 'timeout']);
    silent = false;
    const ok = await eventually(() => d.poll(), () => true, 2000);
    expect(ok[0]).toMatchObject({ value: 7, quality: 'good' });
    expect(rec.recovered).toBe(1);
  });

  it('a late answer with an old transaction id is never taken for the current one', async () => {
    // Timeout 400 ms. The first request is answered 200 ms after its timeout, while the second one
    // (answered after 200 ms, well within its timeout) is on the wire.
    const { port } = await rawServer({ delayFor: (n) => (n === 0 ? 600 : n === 1 ? 200 : 0), value: (n) => (n === 0 ? 111 : 222) });
    const { d } = driver({ ...rawDevice(port), timeout: '400ms' });
    await d.start();
    await expect(d.poll()).rejects.toMatchObject({ code: 'timeout' });
    const readings = await d.poll();
    expect(readings[0]).toMatchObject({ value: 222, quality: 'good' });
    expect((await d.poll())[0]).toMatchObject({ value: 222 });
  });
});
