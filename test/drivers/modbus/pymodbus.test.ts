// The driver against pymodbus 3.0 (Debian's python3-pymodbus), an implementation independent of
// modbus-serial: values encoded by pymodbus's BinaryPayloadBuilder in every type × order, writes
// of every kind, exception 02 from sparse blocks, and a server killed and restarted.
import { afterEach, describe, expect, it } from 'vitest';
import { modbusDriver, type ModbusDeviceConfig, type ModbusPointConfig } from '../../../drivers/modbus/index.js';
import type { ModbusDriver } from '../../../drivers/modbus/modbus-driver.js';
import type { Driver } from '../../../src/driver-api/index.js';
import { freePort } from '../../integration/harness/free-port.js';
import { byName, eventually, fakeContext } from './helpers/fake-context.js';
import { startPymodbus, type Peer, type TableSpec } from './helpers/processes.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
const TYPED: { type: string; value: number | string; expected: number | bigint }[] = [
  { type: 'int16', value: -1234, expected: -1234 },
  { type: 'uint16', value: 0xbeef, expected: 0xbeef },
  { type: 'int32', value: -123456789, expected: -123456789 },
  { type: 'uint32', value: 4_000_000_000, expected: 4_000_000_000 },
  { type: 'float32', value: 229.75, expected: 229.75 },
  { type: 'int64', value: '-9000000000000000000', expected: -9_000_000_000_000_000_000n },
  { type: 'uint64', value: '18000000000000000000', expected: 18_000_000_000_000_000_000n },
  { type: 'uint64', value: 123456789012, expected: 123456789012 },
  { type: 'float64', value: -0.000123456789, expected: -0.000123456789 },
];

/** One point per type × order, 4 registers apart, all in holding registers 0.. */
function typedMap(): { values: NonNullable<TableSpec['values']>; points: ModbusPointConfig[]; expected: Record<string, number | bigint> } {
  const values: NonNullable<TableSpec['values']> = [];
  const points: ModbusPointConfig[] = [];
  const expected: Record<string, number | bigint> = {};
  let address = 0;
  for (const t of TYPED) {
    for (const order of ORDERS) {
      const name = `${t.type}_${order}_${address}`;
      values.push({ table: 'hr', address, type: t.type, order, value: t.value });
      points.push({ name, table: 'holding', address, type: t.type as ModbusPointConfig['type'], order });
      expected[name] = t.expected;
      address += 4;
    }
  }
  return { values, points, expected };
}

async function server(units: Record<string, TableSpec>, port?: number): Promise<{ port: number; peer: Peer }> {
  const p = port ?? (await freePort());
  const peer = await startPymodbus({ mode: 'tcp', port: p, units });
  cleanups.push(() => peer.stop());
  return { port: p, peer };
}

function driver(device: ModbusDeviceConfig) {
  expect(modbusDriver.check!(device)).toEqual([]);
  const rec = fakeContext();
  const d = modbusDriver.create(device, rec.ctx) as Driver & ModbusDriver;
  cleanups.push(() => d.stop());
  return { d, rec };
}

const device = (port: number, points: ModbusPointConfig[], extra: Partial<ModbusDeviceConfig> = {}): ModbusDeviceConfig => ({
  name: 'py', driver: 'modbus', tcp: { host: '127.0.0.1', port }, unit_id: 1, timeout: '2s',
  reconnect: { initial: '50ms', max: '200ms' }, points, ...extra,
});

describe('Modbus TCP against pymodbus', () => {
  it('decodes every type × order exactly as pymodbus encodes it', async () => {
    const map = typedMap();
    const strings = [
      { table: 'hr' as const, address: 200, type: 'string', length: 6, value: 'EM340 v2' },
      { table: 'hr' as const, address: 206, type: 'string', length: 2, value: 'ABCD' },
    ];
    const { port } = await server({ '1': { values: [...map.values, ...strings], co: { '0': [1, 0, 1] }, di: { '5': [0, 1] }, hr: { '0': new Array(210).fill(0), '210': [0b1010_0000_0000_0101] } } });
    const { d, rec } = driver(device(port, [
      ...map.points,
      { name: 'label', table: 'holding', address: 200, type: 'string', length: 6 },
      { name: 'full', table: 'holding', address: 206, type: 'string', length: 2 },
      { name: 'coil0', table: 'coil', address: 0 },
      { name: 'coil1', table: 'coil', address: 1 },
      { name: 'coil2', table: 'coil', address: 2 },
      { name: 'di6', table: 'discrete', address: 6 },
      { name: 'bit0', table: 'holding', address: 210, type: 'bool', bit: 0 },
      { name: 'bit1', table: 'holding', address: 210, type: 'bool', bit: 1 },
      { name: 'bit15', table: 'holding', address: 210, type: 'uint16', bit: 15 },
    ]));
    await d.start();
    const r = byName(await d.poll());
    expect(rec.errors).toEqual([]);
    for (const [name, want] of Object.entries(map.expected)) {
      if (name.startsWith('float')) expect(r[name]!.value as number, name).toBeCloseTo(Number(want), 10);
      else expect(r[name]!.value, name).toBe(want);
    }
    expect(r.label!.value).toBe('EM340 v2');
    expect(r.full!.value).toBe('ABCD');
    expect([r.coil0!.value, r.coil1!.value, r.coil2!.value, r.di6!.value]).toEqual([true, false, true, true]);
    expect([r.bit0!.value, r.bit1!.value, r.bit15!.value]).toEqual([true, false, true]);
    // 36 numeric points, 2 strings and 3 bits in three reads (no value straddles two), one per bit table.
    expect(d.currentPlan.map((q) => [q.table, q.start, q.count])).toEqual([
      ['holding', 0, 124], ['holding', 124, 20], ['holding', 200, 11], ['coil', 0, 3], ['discrete', 6, 1],
    ]);
  });

  it('writes with FC 5/6/15/16 and a bit by read-modify-write, and reads back', async () => {
    const { port } = await server({ '1': { hr: { '0': new Array(20).fill(0) }, co: { '0': [0, 0] } } });
    const { d } = driver(device(port, [
      { name: 'u16', table: 'holding', address: 0, writable: true },
      { name: 'i16m', table: 'holding', address: 1, type: 'int16', writable: true, write_function: 'multiple' },
      { name: 'f32', table: 'holding', address: 2, type: 'float32', order: 'CDAB', writable: true },
      { name: 'i64', table: 'holding', address: 4, type: 'int64', order: 'DCBA', writable: true },
      { name: 'txt', table: 'holding', address: 8, type: 'string', length: 4, writable: true },
      { name: 'flags', table: 'holding', address: 12 },
      { name: 'flag3', table: 'holding', address: 12, type: 'bool', bit: 3, writable: true },
      { name: 'flag4', table: 'holding', address: 12, type: 'bool', bit: 4, writable: true },
      { name: 'c0', table: 'coil', address: 0, writable: true },
      { name: 'c1', table: 'coil', address: 1, writable: true, write_function: 'multiple' },
    ]));
    await d.start();
    await d.write('u16', 65535);
    await d.write('i16m', -7);
    await d.write('f32', -12.5);
    await d.write('i64', -(2n ** 62n));
    await d.write('txt', 'hi there');
    await d.write('flag3', true);
    await d.write('flag4', 1);
    await d.write('flag3', false);
    await d.write('c0', true);
    await d.write('c1', true);
    const r = byName(await d.poll());
    expect(r.u16!.value).toBe(65535);
    expect(r.i16m!.value).toBe(-7);
    expect(r.f32!.value).toBe(-12.5);
    expect(r.i64!.value).toBe(-(2n ** 62n));
    expect(r.txt!.value).toBe('hi there');
    expect(r.flags!.value).toBe(0b10000);
    expect([r.flag3!.value, r.flag4!.value, r.c0!.value, r.c1!.value]).toEqual([false, true, true, true]);
  });

  it('a write the device refuses is a DeviceError with the exception code', async () => {
    const { port } = await server({ '1': { hr: { '0': [0] } } });
    const { d, rec } = driver(device(port, [{ name: 'ghost', table: 'holding', address: 5, writable: true }]));
    await d.start();
    await expect(d.write('ghost', 1)).rejects.toMatchObject({ code: 'exception', modbusCode: 2 });
    expect(rec.errors.map((e) => e.kind)).toEqual(['exception']);
  });

  it('exception 02 from a sparse map: the read is split, the bad point alone is bad, the split is kept', async () => {
    const { port } = await server({ '1': { ir: { '0': [1, 2, 3, 4], '6': [7, 8], '10': [11, 12, 13, 14] } } });
    const points: ModbusPointConfig[] = [0, 1, 2, 3, 5, 6, 7, 10, 11, 12, 13].map((a) => ({ name: `r${a}`, table: 'input', address: a }));
    const { d, rec } = driver(device(port, points));
    await d.start();
    expect(d.currentPlan).toHaveLength(1);
    const r = byName(await d.poll());
    for (const a of [0, 1, 2, 3, 6, 7, 10, 11, 12, 13]) expect(r[`r${a}`]!.value, `r${a}`).toBe(a + 1);
    expect(r.r5).toMatchObject({ quality: 'bad', value: null });
    const plan = d.currentPlan.map((q) => [q.start, q.count]);
    expect(plan).toContainEqual([5, 1]);
    expect(rec.errors).toHaveLength(1);
    await d.poll();
    expect(d.currentPlan.map((q) => [q.start, q.count])).toEqual(plan);
    expect(rec.errors).toHaveLength(1);
    // Every point bad for address reasons: still readings, not a rejected poll.
    const { d: onlyBad } = driver(device(port, [{ name: 'x', table: 'input', address: 100 }], { name: 'py2' }));
    await onlyBad.start();
    expect((await onlyBad.poll())[0]).toMatchObject({ quality: 'bad' });
  });

  it('an unknown unit id times out; the device is reported and never given up on', async () => {
    const { port } = await server({ '1': { hr: { '0': [42] } } });
    const { d, rec } = driver(device(port, [{ name: 'v', table: 'holding', address: 0 }], { unit_id: 9, timeout: '200ms' }));
    await d.start();
    await expect(d.poll()).rejects.toMatchObject({ code: 'timeout' });
    expect(rec.errors[0]!.kind).toBe('timeout');
  });

  it('a killed server: connection errors, then recovery on restart', async () => {
    const units = { '1': { hr: { '0': [42] } } };
    const first = await server(units);
    const { d, rec } = driver(device(first.port, [{ name: 'v', table: 'holding', address: 0 }]));
    await d.start();
    expect((await d.poll())[0]!.value).toBe(42);
    await first.peer.stop();
    // The first failure may be a timeout (a request on the wire as the process dies); the closed
    // socket is noticed as a connection error at the latest after the next attempts.
    await eventually(() => d.poll().catch(() => null), () => rec.errors.some((e) => e.kind === 'connection'), 5000);
    await server(units, first.port);
    const back = await eventually(() => d.poll(), () => true, 5000);
    expect(back[0]).toMatchObject({ value: 42, quality: 'good' });
    expect(rec.recovered).toBe(1);
  });
});
