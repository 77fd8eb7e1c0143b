// bluetoothd restarting and the bus daemon dying under a running driver: reported, retried, and
// never an uncaught 'error' event (vitest fails the run on those).
import { afterEach, describe, expect, it } from 'vitest';
import type { Driver } from '../../../src/driver-api/index.js';
import type { BleDeviceConfig } from '../../../drivers/ble/index.js';
import { BluezTestBed } from './fake-bluez/bluez-test-bed.js';
import type { FakeBluez, FakeDeviceSpec } from './fake-bluez/fake-bluez.js';
import { RecordingContext, TinySharedResources, waitFor } from './fake-context.js';

const ADDRESS = 'C4:7C:8D:6A:12:34';
const TAG = 'D1:22:33:44:55:66';
const FAST = { reconnect: { initial: '50ms', max: '200ms' }, connect_timeout: '2s', timeout: '1s' };
const SPEC: FakeDeviceSpec = {
  address: ADDRESS,
  services: [{ uuid: '0000181a-0000-1000-8000-00805f9b34fb', characteristics: [{ uuid: '00002a6e-0000-1000-8000-00805f9b34fb', value: Buffer.from([0x7e, 0x09]), flags: ['read', 'notify'] }] }],
};
const GATT: BleDeviceConfig = {
  name: 'cold-room',
  driver: 'ble',
  address: ADDRESS,
  ...FAST,
  points: [
    { name: 'temperature', service: '181a', characteristic: '2a6e', mode: 'read', type: 'int16le' },
    { name: 'live', service: '181a', characteristic: '2a6e', mode: 'notify', type: 'int16le' },
  ],
};
const RUUVI: BleDeviceConfig = { name: 'tag', driver: 'ble', address: TAG, advertisement: 'ruuvi', ...FAST, points: [{ name: 'temperature' }] };

function ruuvi(sequence: number): Record<number, Buffer> {
  const b = Buffer.from('0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F', 'hex');
  b.writeUInt16BE(sequence, 16);
  return { 0x0499: b };
}

// A bus per test: the second test kills its daemon.
let current: BluezTestBed | undefined;

afterEach(async () => {
  const ending = current;
  current = undefined;
  await ending?.dispose();
});

async function startBed(): Promise<BluezTestBed> {
  current = await BluezTestBed.start();
  return current;
}

function startFake(on: BluezTestBed): Promise<FakeBluez> {
  return on.startBluez({ devices: [SPEC, { address: TAG, manufacturerData: ruuvi(1) }] });
}

async function startDrivers(on: BluezTestBed): Promise<{ gatt: Driver; gattCtx: RecordingContext; scanCtx: RecordingContext }> {
  const resources = new TinySharedResources();
  const { driver: gatt, ctx: gattCtx } = await on.startDriver(GATT, new RecordingContext(resources));
  const { ctx: scanCtx } = await on.startDriver(RUUVI, new RecordingContext(resources));
  return { gatt, gattCtx, scanCtx };
}

describe('BLE resilience', () => {
  it('starts over when bluetoothd restarts', async () => {
    const bed = await startBed();
    const first = await startFake(bed);
    const { gatt, gattCtx, scanCtx } = await startDrivers(bed);
    await waitFor('connected and scanning', () => gattCtx.recoveries === 1 && scanCtx.valuesOf('temperature').length >= 1);

    await first.stop();
    await waitFor('the loss', () => gattCtx.errorsOf('link_lost').length === 1 && scanCtx.errorsOf('adapter').length >= 1);
    expect(gattCtx.errorsOf('link_lost')[0]?.message).toMatch(/bluetoothd left the system bus/);
    await expect(gatt.poll!()).rejects.toThrow(/not connected/);

    const second = await startFake(bed);
    await waitFor('reconnected to the new bluetoothd', () => gattCtx.recoveries === 2);
    expect((await gatt.poll!())[0]?.value).toBe(2430);
    await waitFor('notifications on the new bluetoothd', () => second.device(ADDRESS).characteristic('00002a6e-0000-1000-8000-00805f9b34fb').notifying);
    second.device(TAG).setManufacturerData(ruuvi(2));
    await waitFor('advertisements again', () => scanCtx.valuesOf('temperature').length >= 2);
  });

  it('survives the bus daemon dying and keeps retrying', async () => {
    const bed = await startBed();
    await startFake(bed);
    const { gatt, gattCtx, scanCtx } = await startDrivers(bed);
    await waitFor('connected and scanning', () => gattCtx.recoveries === 1 && scanCtx.valuesOf('temperature').length >= 1);

    await bed.bus.stop();
    await waitFor('the loss', () => gattCtx.errorsOf('link_lost').length === 1);
    await waitFor('retries against the missing bus', () => gattCtx.logged(/still unavailable/) >= 1 && scanCtx.logged(/still unavailable/) >= 1);
    expect(gattCtx.errorsOf('adapter').at(-1)?.message).toMatch(/D-Bus system bus not reachable/);
    await expect(gatt.poll!()).rejects.toThrow(/not connected/);
  });
});
