// RuuviTag and BTHome advertisements from the fake bluetoothd's Device1 properties, and what
// the driver does when BlueZ, the adapter or the bus itself is missing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BleDeviceConfig } from '../../../drivers/ble/index.js';
import { BluezTestBed } from './fake-bluez/bluez-test-bed.js';
import { RecordingContext, TinySharedResources, waitFor } from './fake-context.js';

const RUUVI = 0x0499;
const BTHOME = '0000fcd2-0000-1000-8000-00805f9b34fb';
const TAG = 'D1:22:33:44:55:66';
const OTHER_TAG = 'D1:22:33:44:55:77';
const FAST = { reconnect: { initial: '50ms', max: '200ms' } };

/** The spec's "valid data" vector with another measurement sequence number. */
function ruuviPayload(sequence: number, temperatureRaw = 0x12fc): Buffer {
  const b = Buffer.from('0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F', 'hex');
  b.writeInt16BE(temperatureRaw, 1);
  b.writeUInt16BE(sequence, 16);
  return b;
}

function fridgeTag(overrides: Partial<BleDeviceConfig> = {}): BleDeviceConfig {
  return {
    name: 'fridge-tag',
    driver: 'ble',
    address: TAG,
    advertisement: 'ruuvi',
    ...FAST,
    points: [{ name: 'temperature' }, { name: 'battery', field: 'battery_voltage' }, { name: 'signal', field: 'rssi' }],
    ...overrides,
  };
}

let bed: BluezTestBed;

beforeAll(async () => {
  bed = await BluezTestBed.start();
});

afterAll(async () => {
  await bed?.dispose();
});

afterEach(async () => {
  await bed?.stopDriversAndBluez();
});

describe('BLE advertisements', () => {
  it('decodes RuuviTag data format 5 of the configured address only, once per measurement', async () => {
    const fake = await bed.startBluez();
    const tag = fake.addDevice({ address: TAG, rssi: -71, manufacturerData: { [RUUVI]: ruuviPayload(205) } });
    const other = fake.addDevice({ address: OTHER_TAG, manufacturerData: { [RUUVI]: ruuviPayload(1) } });
    const { ctx } = await bed.startDriver(fridgeTag());

    await waitFor('the advertisement BlueZ already holds', () => ctx.valuesOf('temperature').length >= 1);
    expect(fake.adapter('hci0').Discovering).toBe(true);
    expect(fake.stats.discoveryFilters[0]).toEqual({ Transport: 'le', DuplicateData: true });
    expect(ctx.emitted.map((r) => [r.point, r.value])).toEqual([
      ['temperature', 24.3],
      ['battery', 2.977],
      ['signal', -71],
    ]);

    tag.setManufacturerData({ [RUUVI]: ruuviPayload(205) }); // the same measurement again
    other.setManufacturerData({ [RUUVI]: ruuviPayload(2, 0x0100) }); // not ours
    tag.setRssi(-60);
    tag.setManufacturerData({ [RUUVI]: ruuviPayload(206, 0x1000) });
    await waitFor('the next measurement', () => ctx.valuesOf('temperature').length >= 2);
    expect(ctx.valuesOf('temperature')).toEqual([24.3, 20.48]);
    expect(ctx.valuesOf('signal')).toEqual([-71, -60]);
    expect(ctx.errors).toEqual([]);

    // Invalid-value marker: a bad reading, never a number.
    tag.setManufacturerData({ [RUUVI]: ruuviPayload(207, -0x8000) });
    await waitFor('the invalid temperature', () => ctx.valuesOf('temperature').length >= 3);
    expect(ctx.valuesOf('temperature')).toEqual([24.3, 20.48, null]);
    expect(ctx.emitted.filter((r) => r.point === 'temperature').at(-1)).toMatchObject({ value: null, quality: 'bad' });
    expect(ctx.valuesOf('battery').at(-1)).toBe(2.977);
  });

  it('decodes BTHome v2 service data and skips repeated packet ids', async () => {
    const fake = await bed.startBluez();
    const sensor = fake.addDevice({ address: TAG });
    const { ctx } = await bed.startDriver(
      fridgeTag({ advertisement: 'bthome', points: [{ name: 'temperature' }, { name: 'humidity' }, { name: 'battery' }, { name: 'door' }] }),
    );
    await waitFor('discovery', () => fake.adapter('hci0').Discovering);

    sensor.setServiceData({ [BTHOME]: Buffer.from('400001016102ca0903bf131a01', 'hex') });
    await waitFor('the first packet', () => ctx.valuesOf('temperature').length >= 1);
    sensor.setServiceData({ [BTHOME]: Buffer.from('400001016102ca0903bf131a01', 'hex') });
    sensor.setServiceData({ [BTHOME]: Buffer.from('40000202c409', 'hex') });
    await waitFor('the second packet', () => ctx.valuesOf('temperature').length >= 2);
    expect(ctx.emitted.map((r) => [r.point, r.value])).toEqual([
      ['temperature', 25.06],
      ['humidity', 50.55],
      ['battery', 97],
      ['door', true],
      ['temperature', 25],
    ]);
    expect(ctx.errors).toEqual([]);
  });

  it('counts malformed advertisements and keeps listening', async () => {
    const fake = await bed.startBluez();
    const ruuvi = fake.addDevice({ address: TAG });
    const bthome = fake.addDevice({ address: OTHER_TAG });
    const resources = new TinySharedResources();
    const { ctx: r } = await bed.startDriver(fridgeTag(), new RecordingContext(resources));
    const { ctx: b } = await bed.startDriver(fridgeTag({ address: OTHER_TAG, advertisement: 'bthome', points: [{ name: 'temperature' }] }), new RecordingContext(resources));
    // Both scanners listen once each has seen a first good advertisement.
    ruuvi.setManufacturerData({ [RUUVI]: ruuviPayload(8) });
    bthome.setServiceData({ [BTHOME]: Buffer.from('4002c409', 'hex') });
    await waitFor('both scanners', () => r.valuesOf('temperature').length >= 1 && b.valuesOf('temperature').length >= 1);

    ruuvi.setManufacturerData({ [RUUVI]: Buffer.from('03291A1ECE1EFC18F94202CA0B53', 'hex') }); // format 3
    ruuvi.setManufacturerData({ [RUUVI]: ruuviPayload(9).subarray(0, 20) }); // short
    bthome.setServiceData({ [BTHOME]: Buffer.from('4102ca09', 'hex') }); // encrypted
    bthome.setServiceData({ [BTHOME]: Buffer.from('4002ca097f0102', 'hex') }); // unknown object id after a temperature
    await waitFor('four decode errors', () => r.errorsOf('decode').length === 2 && b.errorsOf('decode').length === 2);
    expect(r.errorsOf('decode').map((e) => e.message)).toEqual([
      expect.stringMatching(/D1:22:33:44:55:66 manufacturer data 0x0499: Ruuvi data format 3 is not supported/),
      expect.stringMatching(/needs 24 bytes, got 20/),
    ]);
    expect(b.errorsOf('decode').map((e) => e.message)).toEqual([expect.stringMatching(/encrypted/), expect.stringMatching(/unknown BTHome object id 0x7f/)]);
    expect(r.valuesOf('temperature')).toEqual([24.3]);
    expect(b.valuesOf('temperature')).toEqual([25, 25.06]);

    ruuvi.setManufacturerData({ [RUUVI]: ruuviPayload(10) });
    await waitFor('a good advertisement after the bad ones', () => r.valuesOf('temperature').length >= 2);
    expect(r.recoveries).toBe(1);
  });
});

describe('BLE without BlueZ or adapter', () => {
  it('reports a missing adapter, retries, and works once it appears', async () => {
    const fake = await bed.startBluez({ adapter: 'none' });
    const resources = new TinySharedResources();
    const { ctx: scan } = await bed.startDriver(fridgeTag(), new RecordingContext(resources));
    const { ctx: gatt, driver } = await bed.startDriver(
      {
        name: 'cold-room',
        driver: 'ble',
        address: 'C4:7C:8D:6A:12:34',
        ...FAST,
        points: [{ name: 't', service: '181a', characteristic: '2a6e', mode: 'read', type: 'int16le' }],
      },
      new RecordingContext(resources),
    );
    // Reported once per outage; the retries are logged.
    await waitFor('retries', () => scan.logged(/still unavailable/) >= 1 && gatt.logged(/still unavailable/) >= 1);
    expect(scan.errorsOf('adapter')).toEqual([{ kind: 'adapter', message: expect.stringMatching(/adapter hci0 not found \(BlueZ has: none\)/) }]);
    expect(gatt.errorsOf('adapter')).toHaveLength(1);
    await expect(driver.poll!()).rejects.toThrow(/not connected \(adapter hci0 not found/);

    fake.addAdapter('hci0');
    fake.addDevice({
      address: 'C4:7C:8D:6A:12:34',
      services: [{ uuid: '0000181a-0000-1000-8000-00805f9b34fb', characteristics: [{ uuid: '00002a6e-0000-1000-8000-00805f9b34fb', value: Buffer.from([5, 0]) }] }],
    });
    fake.addDevice({ address: TAG, manufacturerData: { [RUUVI]: ruuviPayload(1) } });
    await waitFor('the advertisement', () => scan.valuesOf('temperature').length >= 1);
    await waitFor('the GATT connection', () => gatt.recoveries === 1);
    expect((await driver.poll!())[0]?.value).toBe(5);

    // The adapter is unplugged and plugged in again.
    fake.removeAdapter('hci0');
    await waitFor('the loss to be reported', () => gatt.errorsOf('link_lost').length === 1 && scan.errorsOf('adapter').some((e) => /removed/.test(e.message)));
    fake.addAdapter('hci0');
    fake.addDevice({ address: TAG, manufacturerData: { [RUUVI]: ruuviPayload(2) } });
    await waitFor('advertisements again', () => scan.valuesOf('temperature').length >= 2);
  });

  it('waits for a powered-off adapter to be powered on', async () => {
    const fake = await bed.startBluez({ adapter: 'unpowered' });
    fake.addDevice({ address: TAG, manufacturerData: { [RUUVI]: ruuviPayload(1) } });
    const { ctx } = await bed.startDriver(fridgeTag({ reconnect: { initial: '5s', max: '5s' } }));
    await waitFor('the report', () => ctx.errorsOf('adapter').length === 1);
    expect(ctx.errorsOf('adapter')[0]?.message).toMatch(/adapter hci0 is powered off/);
    // Powering on wakes the waiting device at once instead of after its 5 s backoff.
    const t0 = Date.now();
    fake.setPowered('hci0', true);
    await waitFor('the advertisement', () => ctx.valuesOf('temperature').length >= 1);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('reports BlueZ missing from the bus without failing start', async () => {
    const { driver, ctx } = await bed.startDriver(fridgeTag());
    await waitFor('an adapter error', () => ctx.errorsOf('adapter').length >= 1);
    expect(ctx.errorsOf('adapter')[0]?.message).toMatch(/BlueZ \(org.bluez\) is not running/);
    await driver.stop();
  });

  it('reports an unreachable system bus without failing start', async () => {
    const restore = bed.pointSystemBusAt(`unix:path=${bed.bus.dir}/missing.sock`);
    try {
      const { driver, ctx } = await bed.startDriver(
        { name: 'x', driver: 'ble', address: 'C4:7C:8D:6A:12:34', ...FAST, points: [{ name: 't', service: '181a', characteristic: '2a6e', mode: 'read', type: 'uint8' }] },
      );
      await waitFor('a retry', () => ctx.logged(/still unavailable/) >= 1);
      expect(ctx.errorsOf('adapter')).toHaveLength(1);
      expect(ctx.errorsOf('adapter')[0]?.message).toMatch(/D-Bus system bus not reachable at unix:path=.*missing.sock \(ENOENT\)/);
      await driver.stop();
    } finally {
      restore();
    }
  });
});
