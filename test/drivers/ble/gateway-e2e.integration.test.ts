// End to end: fake bluetoothd on a private bus → BLE driver inside a real Gateway → mosquitto,
// with a /set command written to a GATT characteristic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceConfigBase, DriverEntry, DriverFactory } from '../../../src/driver-api/index.js';
import { drivers } from '../../../drivers/index.js';
import { bleDriver } from '../../../drivers/ble/index.js';
import { collect, startMosquitto, type Broker } from '../../integration/harness/index.js';
import { startTestGateway } from '../../integration/harness/test-gateway.js';
import { BluezTestBed } from './fake-bluez/bluez-test-bed.js';
import type { FakeBluez } from './fake-bluez/fake-bluez.js';

const driverList: readonly DriverEntry[] = drivers.some((d) => d.type === 'ble')
  ? drivers
  : [...drivers, bleDriver as DriverFactory<DeviceConfigBase>];

const SETPOINT = '0000fff1-0000-1000-8000-00805f9b34fb';
const PROBE = '0000fff2-0000-1000-8000-00805f9b34fb';

let broker: Broker;
let bed: BluezTestBed;
let fake: FakeBluez;

beforeAll(async () => {
  broker = await startMosquitto();
  bed = await BluezTestBed.start();
  fake = await bed.startBluez({
    devices: [
      {
        address: 'C4:7C:8D:6A:12:34',
        services: [
          { uuid: '0000181a-0000-1000-8000-00805f9b34fb', characteristics: [{ uuid: '00002a6e-0000-1000-8000-00805f9b34fb', value: Buffer.from([0x7e, 0x09]) }] },
          {
            uuid: '0000fff0-0000-1000-8000-00805f9b34fb',
            characteristics: [
              { uuid: SETPOINT, value: Buffer.from([0x4a, 0xff]) },
              { uuid: PROBE, value: Buffer.from([0x00, 0x00]), flags: ['notify'] },
            ],
          },
        ],
      },
      { address: 'D1:22:33:44:55:66', manufacturerData: { 0x0499: Buffer.from('0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F', 'hex') } },
    ],
  });
});

afterAll(async () => {
  try {
    await bed?.dispose();
  } finally {
    await broker?.dispose();
  }
});

describe('BLE devices through the gateway', () => {
  it('publishes GATT reads, notifications and advertisements, and writes /set commands', async () => {
    const gw = await startTestGateway({
      drivers: driverList,
      siteYaml: `site: ble
gateway: gw1
mqtt: { url: ${broker.url} }
buffer: { path: buffer.db }
devices:
  - name: cold-room
    driver: ble
    address: "C4:7C:8D:6A:12:34"
    interval: 200ms
    reconnect: { initial: 50ms, max: 200ms }
    points:
      - { name: temperature, service: "181a", characteristic: "2a6e", mode: read, type: int16le, scale: 0.01, unit: C }
      - { name: setpoint, service: fff0, characteristic: fff1, mode: read, type: int16le, scale: 0.1, writable: true, min: -30, max: 10 }
      - { name: probe, service: fff0, characteristic: fff2, mode: notify, type: int16le, scale: 0.01 }
  - name: fridge-tag
    driver: ble
    address: "D1:22:33:44:55:66"
    advertisement: ruuvi
    points:
      - { name: temperature, unit: C }
      - { name: battery, field: battery_voltage, unit: V }
`,
    });
    const sub = await collect(broker.url, 'ble/#');
    const pub = await collect(broker.url, 'unused/none');
    const valueOf = (topic: string): unknown => {
      const m = [...sub.messages].reverse().find((x) => x.topic === topic);
      return m ? (JSON.parse(m.payload.toString()) as { value: unknown }).value : undefined;
    };
    try {
      await sub.waitFor(() => valueOf('ble/cold-room/temperature') === 24.3 && valueOf('ble/cold-room/setpoint') === -18.2, 15_000);
      await sub.waitFor(() => valueOf('ble/fridge-tag/temperature') === 24.3 && valueOf('ble/fridge-tag/battery') === 2.977, 10_000);

      const probe = fake.device('C4:7C:8D:6A:12:34').characteristic(PROBE);
      await sub.waitFor(() => probe.notifying, 5000);
      probe.notify(Buffer.from([0x10, 0xfc])); // -1008 → -10.08
      await sub.waitFor(() => valueOf('ble/cold-room/probe') === -10.08, 5000);

      await new Promise((r) => setTimeout(r, 300)); // the gateway subscribes right after connecting
      await pub.client.publishAsync('ble/cold-room/setpoint/set', '-18.5', { qos: 1 });
      await sub.waitFor((m) => m.some((x) => x.topic === 'ble/cold-room/setpoint/set/result'), 5000);
      const result = JSON.parse(sub.messages.find((x) => x.topic === 'ble/cold-room/setpoint/set/result')!.payload.toString()) as Record<string, unknown>;
      expect(result).toMatchObject({ ok: true });
      expect(fake.device('C4:7C:8D:6A:12:34').characteristic(SETPOINT).writes.map((b) => b.readInt16LE(0))).toEqual([-185]);
      await sub.waitFor(() => valueOf('ble/cold-room/setpoint') === -18.5, 5000);
    } finally {
      await gw.stop();
      await sub.close();
      await pub.close();
    }
    expect(fake.device('C4:7C:8D:6A:12:34').connected).toBe(false);
  });
});
