// The BLE driver against a fake bluetoothd on a private D-Bus daemon: GATT reads, notifications,
// writes, link loss and reconnection, serialised connects, and the bus connections it leaves.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import dbus from 'dbus-next';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandError, DeviceError, type Driver } from '../../../src/driver-api/index.js';
import type { BleDeviceConfig } from '../../../drivers/ble/index.js';
import { BluezTestBed } from './fake-bluez/bluez-test-bed.js';
import type { FakeDeviceSpec } from './fake-bluez/fake-bluez.js';
import { RecordingContext, TinySharedResources, waitFor } from './fake-context.js';

const ESS = '0000181a-0000-1000-8000-00805f9b34fb';
const TEMPERATURE = '00002a6e-0000-1000-8000-00805f9b34fb';
const CUSTOM = '0000fff0-0000-1000-8000-00805f9b34fb';
const SETPOINT = '0000fff1-0000-1000-8000-00805f9b34fb';
const PACKED = '0000fff2-0000-1000-8000-00805f9b34fb';
const ADDRESS = 'C4:7C:8D:6A:12:34';
const FAST = { reconnect: { initial: '50ms', max: '200ms' }, connect_timeout: '3s', timeout: '2s' };

function sensorSpec(address = ADDRESS): FakeDeviceSpec {
  return {
    address,
    services: [
      { uuid: ESS, characteristics: [{ uuid: TEMPERATURE, value: Buffer.from([0x7e, 0x09]) }] },
      {
        uuid: CUSTOM,
        characteristics: [
          { uuid: SETPOINT, value: Buffer.from([0xd0, 0x07]) },
          { uuid: PACKED, value: Buffer.from('2a0937b80b', 'hex') },
        ],
      },
    ],
  };
}

function coldRoom(overrides: Partial<BleDeviceConfig> = {}): BleDeviceConfig {
  return {
    name: 'cold-room',
    driver: 'ble',
    address: ADDRESS.toLowerCase(),
    ...FAST,
    points: [
      { name: 'temperature', service: '181a', characteristic: '2a6e', mode: 'read', type: 'int16le', scale: 0.01 },
      { name: 'setpoint', service: CUSTOM, characteristic: SETPOINT, mode: 'read', type: 'int16le', writable: true },
      { name: 'probe', service: 'fff0', characteristic: 'fff2', mode: 'notify', type: 'int16le' },
      { name: 'probe_humidity', service: 'fff0', characteristic: 'fff2', mode: 'notify', type: 'uint8', byte_offset: 2 },
    ],
    ...overrides,
  };
}

let bed: BluezTestBed;

async function connected(driver: Driver): Promise<void> {
  await waitFor('the device to be connected', async () => {
    try {
      await driver.poll?.();
      return true;
    } catch {
      return false;
    }
  });
}

beforeAll(async () => {
  bed = await BluezTestBed.start();
});

afterAll(async () => {
  await bed?.dispose();
});

afterEach(async () => {
  await bed?.stopDriversAndBluez();
});

describe('BLE GATT devices', () => {
  it('reads points on every poll with the decoded raw values', async () => {
    const bluez = await bed.startBluez();
    const device = bluez.addDevice(sensorSpec());
    const { driver, ctx } = await bed.startDriver(coldRoom());
    await connected(driver);
    expect(ctx.recoveries).toBe(1);

    const first = await driver.poll!();
    expect(first.map((r) => [r.point, r.value, r.quality])).toEqual([
      ['temperature', 2430, 'good'],
      ['setpoint', 2000, 'good'],
    ]);
    device.characteristic(TEMPERATURE).setValue(Buffer.from([0xf6, 0xff]));
    const second = await driver.poll!();
    expect(second.find((r) => r.point === 'temperature')?.value).toBe(-10);

    // A read error is a bad reading for that characteristic only.
    device.characteristic(TEMPERATURE).failReads = 1;
    const third = await driver.poll!();
    expect(third.find((r) => r.point === 'temperature')).toMatchObject({ value: null, quality: 'bad', error: expect.stringMatching(/ATT error/) });
    expect(third.find((r) => r.point === 'setpoint')?.value).toBe(2000);
  });

  it('emits notifications, starting with the current value', async () => {
    const bluez = await bed.startBluez();
    const device = bluez.addDevice(sensorSpec());
    const { driver, ctx } = await bed.startDriver(coldRoom());
    await connected(driver);
    await waitFor('the initial value of the notify points', () => ctx.valuesOf('probe_humidity').length >= 1);
    expect(ctx.valuesOf('probe')).toEqual([2346]);
    await waitFor('StartNotify', () => device.characteristic(PACKED).notifying);

    device.characteristic(PACKED).notify(Buffer.from('f4ff3c', 'hex'));
    await waitFor('the notification', () => ctx.valuesOf('probe').length >= 2);
    expect(ctx.valuesOf('probe')).toEqual([2346, -12]);
    expect(ctx.valuesOf('probe_humidity')).toEqual([55, 60]);

    // Too short for the second point: a bad reading, not a made-up value.
    device.characteristic(PACKED).notify(Buffer.from('0100', 'hex'));
    await waitFor('the short notification', () => ctx.valuesOf('probe').length >= 3);
    expect(ctx.valuesOf('probe')).toEqual([2346, -12, 1]);
    expect(ctx.emitted.at(-1)).toMatchObject({ point: 'probe_humidity', value: null, quality: 'bad' });
  });

  it('writes values and reads them back', async () => {
    const bluez = await bed.startBluez();
    const device = bluez.addDevice(sensorSpec());
    const { driver } = await bed.startDriver(coldRoom());
    await connected(driver);

    await driver.write!('setpoint', 2150);
    expect(device.characteristic(SETPOINT).writes.map((b) => b.toString('hex'))).toEqual(['6608']);
    expect((await driver.poll!()).find((r) => r.point === 'setpoint')?.value).toBe(2150);

    await expect(driver.write!('setpoint', 40000)).rejects.toBeInstanceOf(CommandError);
    await expect(driver.write!('setpoint', 'warm')).rejects.toBeInstanceOf(CommandError);
    await expect(driver.write!('temperature', 1)).rejects.toThrow(/not writable/);
    expect(device.characteristic(SETPOINT).writes).toHaveLength(1);
  });

  it('reconnects after link loss and resumes notifications', async () => {
    const bluez = await bed.startBluez();
    const device = bluez.addDevice(sensorSpec());
    const { driver, ctx } = await bed.startDriver(coldRoom());
    await connected(driver);
    await waitFor('StartNotify', () => device.characteristic(PACKED).notifying);

    device.failConnects = 2;
    device.dropLink();
    await waitFor('the link loss report', () => ctx.errorsOf('link_lost').length === 1);
    await expect(driver.poll!()).rejects.toBeInstanceOf(DeviceError);
    await expect(driver.write!('setpoint', 1)).rejects.toThrow(/not connected/);

    await waitFor('the reconnect', () => ctx.recoveries === 2);
    expect(device.characteristic(PACKED).notifying).toBe(true);
    // Two failed attempts, reported once: the second failed the same way.
    expect(ctx.errorsOf('connect')).toHaveLength(1);
    expect(ctx.logged(/still unavailable/)).toBe(1);
    expect(bluez.stats.connectCalls).toBe(4);
    const before = ctx.valuesOf('probe').length;
    device.characteristic(PACKED).notify(Buffer.from('64003c', 'hex'));
    await waitFor('a notification on the new link', () => ctx.valuesOf('probe').length > before && ctx.valuesOf('probe').at(-1) === 100);
    expect((await driver.poll!()).find((r) => r.point === 'temperature')?.value).toBe(2430);
  });

  it('a device that drops every link at once is reconnected at a growing interval, not at the shortest', async () => {
    const bluez = await bed.startBluez();
    const device = bluez.addDevice(sensorSpec());
    const { driver, ctx } = await bed.startDriver(coldRoom({ reconnect: { initial: '50ms', max: '800ms' } }));
    // Every link is dropped as soon as the driver has it up (services resolved, notifications on).
    let flapping = true;
    let seen = 0;
    const dropper = (async () => {
      while (flapping) {
        if (ctx.recoveries > seen) {
          seen = ctx.recoveries;
          device.dropLink();
        }
        await sleep(2);
      }
    })();
    try {
      await sleep(2000);
      // Reset at every connect, this was one attempt every 25–50 ms plus the connect: 20 or more.
      // Growing (25–50, 50–100, … 400–800 ms): at most 7 in 2 s. (A loaded machine only lowers it.)
      expect(bluez.stats.connectCalls).toBeLessThanOrEqual(8);
      // And it does keep trying: on a loaded machine this may take longer than the 2 s above.
      const deadline = Date.now() + 10_000;
      while ((bluez.stats.connectCalls < 4 || ctx.errorsOf('link_lost').length < 3) && Date.now() < deadline) await sleep(20);
    } finally {
      flapping = false;
      await dropper;
    }
    expect(bluez.stats.connectCalls).toBeGreaterThanOrEqual(4);
    expect(ctx.errorsOf('link_lost').length).toBeGreaterThanOrEqual(3);
    // A link that stays up longer than reconnect.max earns a fresh backoff: the next drop is
    // followed by a quick reconnect.
    await connected(driver);
    await sleep(900);
    const calls = bluez.stats.connectCalls;
    const recoveries = ctx.recoveries;
    device.dropLink();
    const dropped = performance.now();
    await waitFor('the reconnect', () => ctx.recoveries > recoveries);
    expect(performance.now() - dropped).toBeLessThan(400);
    expect(bluez.stats.connectCalls).toBe(calls + 1);
  });

  it('keeps connection attempts on one adapter one at a time', async () => {
    const bluez = await bed.startBluez();
    const addresses = ['C4:7C:8D:6A:00:01', 'C4:7C:8D:6A:00:02', 'C4:7C:8D:6A:00:03'];
    for (const a of addresses) bluez.addDevice(sensorSpec(a)).connectDelayMs = 80;
    const resources = new TinySharedResources();
    const drivers = await Promise.all(
      addresses.map(async (a) => (await bed.startDriver(coldRoom({ name: a, address: a }), new RecordingContext(resources))).driver),
    );
    for (const d of drivers) await connected(d);
    expect(bluez.stats.connectCalls).toBe(3);
    expect(bluez.stats.maxConcurrentConnects).toBe(1);
    expect(resources.size).toBe(1);
  });

  it('reports a missing characteristic and still serves the others', async () => {
    const bluez = await bed.startBluez();
    bluez.addDevice({ address: ADDRESS, services: [{ uuid: ESS, characteristics: [{ uuid: TEMPERATURE, value: Buffer.from([1, 0]) }] }] });
    const { driver, ctx } = await bed.startDriver(coldRoom());
    await connected(driver);
    expect(ctx.errorsOf('gatt')[0]?.message).toMatch(/fff0\/fff1 not available on C4:7C:8D:6A:12:34.*services offered: 181a/);
    const readings = await driver.poll!();
    expect(readings.find((r) => r.point === 'temperature')?.value).toBe(1);
    expect(readings.find((r) => r.point === 'setpoint')).toMatchObject({ quality: 'bad', value: null });
    await expect(driver.write!('setpoint', 5)).rejects.toThrow(/not available/);
  });

  it('finds a device BlueZ has not seen yet by running discovery', async () => {
    const bluez = await bed.startBluez();
    const { driver } = await bed.startDriver(coldRoom());
    await waitFor('discovery', () => bluez.adapter('hci0').Discovering);
    expect(bluez.stats.discoveryFilters[0]).toMatchObject({ Transport: 'le' });
    bluez.addDevice(sensorSpec());
    await connected(driver);
    await waitFor('discovery to stop again', () => !bluez.adapter('hci0').Discovering);
  });

  it('disconnects on stop, and stops promptly while a connect hangs', async () => {
    const bluez = await bed.startBluez();
    const device = bluez.addDevice(sensorSpec());
    const { driver } = await bed.startDriver(coldRoom());
    await connected(driver);
    await driver.stop();
    expect(device.connected).toBe(false);

    const slow = bluez.addDevice(sensorSpec('C4:7C:8D:6A:99:99'));
    slow.connectDelayMs = 10_000;
    const { driver: hanging } = await bed.startDriver(coldRoom({ address: 'C4:7C:8D:6A:99:99', connect_timeout: '20s' }));
    await waitFor('the connect call', () => bluez.stats.connectCalls === 2);
    const t0 = Date.now();
    await hanging.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('closes the bus connection of every ended link', async () => {
    const bluez = await bed.startBluez();
    const device = bluez.addDevice(sensorSpec());
    const probe = dbus.sessionBus({ busAddress: bed.bus.address });
    const dbusIface = (await probe.getProxyObject('org.freedesktop.DBus', '/org/freedesktop/DBus')).getInterface('org.freedesktop.DBus');
    const stats = (await probe.getProxyObject('org.freedesktop.DBus', '/org/freedesktop/DBus')).getInterface('org.freedesktop.DBus.Debug.Stats');
    const connections = async (): Promise<string[]> => ((await dbusIface['ListNames']!()) as string[]).filter((n) => n.startsWith(':'));
    /** Match rules the bus daemon holds for all connections together. */
    const matchRules = async (): Promise<number> => {
      let total = 0;
      for (const name of await connections()) {
        const s = (await stats['GetConnectionStats']!(name).catch(() => undefined)) as Record<string, { value: number }> | undefined;
        total += s?.['MatchRules']?.value ?? 0;
      }
      return total;
    };
    try {
      const { driver, ctx } = await bed.startDriver(coldRoom());
      await connected(driver);
      await sleep(100);
      const baseline = { connections: (await connections()).length, rules: await matchRules() };
      for (let i = 1; i <= 3; i++) {
        device.dropLink();
        await waitFor(`reconnect ${i}`, () => ctx.recoveries === i + 1);
      }
      await waitFor('the old sessions to be gone', async () => (await connections()).length === baseline.connections);
      await sleep(100);
      expect(await matchRules()).toBe(baseline.rules);
    } finally {
      probe.disconnect();
    }
  });
});
