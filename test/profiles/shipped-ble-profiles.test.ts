// The shipped BLE profiles against simulated sensors: a fake bluetoothd (private D-Bus) advertises
// the published test vectors of Ruuvi data format 5 and BTHome v2; devices built from the shipped
// profiles, fanned out over two addresses, decode them.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BleDeviceConfig } from '../../drivers/ble/index.js';
import { validateSiteText } from '../../src/config/validate-site.js';
import { drivers } from '../../drivers/index.js';
import { BluezTestBed } from '../drivers/ble/fake-bluez/bluez-test-bed.js';
import { RecordingContext, TinySharedResources, waitFor } from '../drivers/ble/fake-context.js';

const RUUVI = 0x0499;
const BTHOME = '0000fcd2-0000-1000-8000-00805f9b34fb';
const TAGS = ['D1:22:33:44:55:01', 'D1:22:33:44:55:02'];

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

/** The devices a site gets from one fanned-out entry using a shipped profile. */
function devicesFrom(profile: string): BleDeviceConfig[] {
  const site = validateSiteText(
    `site: s\nmqtt: { url: "mqtt://127.0.0.1:1" }\ndevices: [{ name: "tag-{address}", profile: ${profile}, address: ["${TAGS[0]}", "${TAGS[1]}"] }]\n`,
    '/nonexistent/site.yaml', { STATE_DIRECTORY: '/tmp' }, drivers,
  );
  return site.devices as unknown as BleDeviceConfig[];
}

async function start(devices: BleDeviceConfig[]): Promise<RecordingContext[]> {
  const resources = new TinySharedResources();
  const out: RecordingContext[] = [];
  for (const device of devices) {
    const { ctx } = await bed.startDriver(device, new RecordingContext(resources));
    out.push(ctx);
  }
  return out;
}

describe('shipped BLE profiles against simulated sensors', () => {
  it('ruuvitag: data format 5 ("valid data" vector of the Ruuvi specification)', async () => {
    const devices = devicesFrom('ruuvitag');
    expect(devices.map((d) => [d.name, d.profile, d.profile_version])).toEqual([
      ['tag-D1_22_33_44_55_01', 'ruuvitag', '1.0'], ['tag-D1_22_33_44_55_02', 'ruuvitag', '1.0'],
    ]);
    expect(devices[0]!.points.find((p) => p.name === 'pressure')).toMatchObject({ scale: 0.01, unit: 'hPa' });
    const fake = await bed.startBluez();
    fake.addDevice({ address: TAGS[1]!, manufacturerData: { [RUUVI]: Buffer.from('0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F', 'hex') } });
    const [first, second] = await start(devices);
    await waitFor('the second tag', () => second!.valuesOf('temperature').length >= 1);
    expect(Object.fromEntries(second!.emitted.map((r) => [r.point, r.value]))).toEqual({
      temperature: 24.3, humidity: 53.49, pressure: 100044, battery_voltage: 2.977, movement_counter: 66,
    });
    expect(first!.emitted).toEqual([]);
  });

  it('bthome-sensor: temperature, humidity and battery from BTHome v2 service data', async () => {
    const devices = devicesFrom('bthome-sensor');
    const fake = await bed.startBluez();
    const sensor = fake.addDevice({ address: TAGS[0]! });
    const [first] = await start(devices);
    await waitFor('discovery', () => fake.adapter('hci0').Discovering);
    // packet id 1, battery 97 %, temperature 25.06 °C, humidity 50.55 %
    sensor.setServiceData({ [BTHOME]: Buffer.from('400001016102ca0903bf13', 'hex') });
    await waitFor('the packet', () => first!.valuesOf('humidity').length >= 1);
    expect(Object.fromEntries(first!.emitted.map((r) => [r.point, r.value]))).toEqual({ temperature: 25.06, humidity: 50.55, battery: 97 });
  });
});
