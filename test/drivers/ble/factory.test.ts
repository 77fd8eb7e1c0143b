import { describe, expect, it } from 'vitest';
import { bleDriver, type BleDeviceConfig } from '../../../drivers/ble/index.js';
import { normalizeUuid, devicePath, shortUuid } from '../../../drivers/ble/config.js';
import { compileGattPlan, readingsFromValue } from '../../../drivers/ble/gatt-plan.js';

function gattDevice(overrides: Partial<BleDeviceConfig> = {}): BleDeviceConfig {
  return {
    name: 'cold-room',
    driver: 'ble',
    address: 'C4:7C:8D:6A:12:34',
    points: [
      { name: 'temperature', service: '181a', characteristic: '2a6e', mode: 'read', type: 'int16le', scale: 0.01 },
      {
        name: 'setpoint',
        service: '0000fff0-0000-1000-8000-00805f9b34fb',
        characteristic: '0000fff1-0000-1000-8000-00805f9b34fb',
        mode: 'read',
        type: 'int16le',
        writable: true,
      },
    ],
    ...overrides,
  };
}

function advDevice(advertisement: 'ruuvi' | 'bthome', points: BleDeviceConfig['points']): BleDeviceConfig {
  return { name: 'tag', driver: 'ble', address: 'D1:22:33:44:55:66', advertisement, points };
}

const messages = (device: BleDeviceConfig): string[] => (bleDriver.check?.(device) ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('bleDriver.check', () => {
  it('accepts the site file of issue 5', () => {
    expect(messages(gattDevice())).toEqual([]);
    expect(messages(advDevice('ruuvi', [{ name: 'temperature' }, { name: 'battery', field: 'battery_voltage' }]))).toEqual([]);
  });

  it('rejects malformed addresses and durations', () => {
    expect(messages(gattDevice({ address: 'C4:7C:8D:6A:12' }))).toEqual([expect.stringMatching(/^address: .*not a Bluetooth address/)]);
    expect(messages(gattDevice({ connect_timeout: 'soon' }))[0]).toMatch(/^connect_timeout: invalid duration/);
    expect(messages(gattDevice({ reconnect: { initial: '0s', max: 'later' } }))).toEqual([
      'reconnect.initial: reconnect.initial must be longer than 0',
      expect.stringMatching(/^reconnect.max: invalid duration "later"/),
    ]);
  });

  it('needs service, characteristic, mode and type on GATT points', () => {
    const device = gattDevice({ points: [{ name: 'x' }] });
    expect(messages(device)).toEqual([
      'points.0: GATT point x needs service',
      'points.0: GATT point x needs characteristic',
      'points.0: GATT point x needs mode (read or notify)',
      'points.0: GATT point x needs type',
    ]);
    expect(messages(gattDevice({ points: [{ name: 'x', service: '18', characteristic: '2a6e', mode: 'read', type: 'int16le' }] }))[0]).toMatch(
      /points.0.service: "18" is not a UUID/,
    );
  });

  it('keeps GATT and advertisement keys apart', () => {
    expect(messages(gattDevice({ points: [{ name: 't', service: '181a', characteristic: '2a6e', mode: 'read', type: 'uint8', field: 'temperature' }] }))).toEqual([
      'points.0.field: field is for advertisement devices; GATT points name a characteristic',
    ]);
    expect(messages(advDevice('ruuvi', [{ name: 'temperature', service: '181a', mode: 'read' }]))).toEqual([
      'points.0.service: service is for GATT points; ruuvi points only name a field',
      'points.0.mode: mode is for GATT points; ruuvi points only name a field',
    ]);
  });

  it('allows writable only on GATT points starting at byte 0, one per characteristic', () => {
    expect(messages(advDevice('bthome', [{ name: 'temperature', writable: true }]))).toEqual(['points.0.writable: advertisement points cannot be written']);
    const offset = gattDevice({ points: [{ name: 'a', service: '181a', characteristic: '2a6e', mode: 'read', type: 'uint8', byte_offset: 2, writable: true }] });
    expect(messages(offset)[0]).toMatch(/must start at byte 0/);
    const twice = gattDevice({
      points: [
        { name: 'a', service: 'fff0', characteristic: 'fff1', mode: 'read', type: 'uint8', writable: true },
        { name: 'b', service: 'FFF0', characteristic: '0000fff1-0000-1000-8000-00805f9b34fb', mode: 'read', type: 'uint8', writable: true },
      ],
    });
    expect(messages(twice)).toEqual(['points.1.writable: point a already writes characteristic fff0/fff1']);
    const mode = gattDevice({ points: [{ name: 'a', service: 'fff0', characteristic: 'fff1', mode: 'read', type: 'uint8', write_mode: 'command' }] });
    expect(messages(mode)).toEqual(['points.0.write_mode: write_mode only applies to writable points']);
  });

  it('accepts only fields the advertisement format has', () => {
    expect(messages(advDevice('ruuvi', [{ name: 'battery' }]))[0]).toMatch(/^points.0.name: ruuvi advertisements have no field "battery"/);
    expect(messages(advDevice('ruuvi', [{ name: 'b', field: 'voltage' }]))[0]).toMatch(/^points.0.field: ruuvi advertisements have no field "voltage"/);
    expect(messages(advDevice('ruuvi', [{ name: 'signal', field: 'rssi' }, { name: 'mac' }]))).toEqual([]);
    expect(messages(advDevice('bthome', [{ name: 'battery' }, { name: 'temperature_2' }, { name: 'btn', field: 'button' }, { name: 'rssi' }]))).toEqual([]);
    expect(messages(advDevice('bthome', [{ name: 'acceleration_x' }]))[0]).toMatch(/bthome advertisements have no field "acceleration_x"/);
  });
});

describe('bleDriver metadata', () => {
  it('polls only GATT devices with read points', () => {
    expect(bleDriver.polled(gattDevice())).toBe(true);
    expect(bleDriver.polled(gattDevice({ points: [{ name: 'n', service: '181a', characteristic: '2a6e', mode: 'notify', type: 'int16le' }] }))).toBe(false);
    expect(bleDriver.polled(advDevice('ruuvi', [{ name: 'temperature' }]))).toBe(false);
  });

  it('shares the adapter and claims the GATT connection', () => {
    expect(bleDriver.resources?.(gattDevice({ address: 'c4:7c:8d:6a:12:34' }))).toEqual([
      { id: 'ble:hci0', share: 'ble', describe: 'BLE adapter hci0' },
      { id: 'ble:hci0:C4:7C:8D:6A:12:34', describe: 'GATT connection to C4:7C:8D:6A:12:34' },
    ]);
    expect(bleDriver.resources?.({ ...advDevice('ruuvi', []), adapter: 'hci1' })).toEqual([{ id: 'ble:hci1', share: 'ble', describe: 'BLE adapter hci1' }]);
  });

  it('describes the plan', () => {
    const text = bleDriver.plan?.(gattDevice()) ?? '';
    expect(text).toContain('temperature <- 181a/2a6e read int16le bytes 0..1');
    expect(text).toContain('setpoint <- fff0/fff1 read int16le bytes 0..1, writable (request)');
    expect(bleDriver.plan?.(advDevice('ruuvi', [{ name: 'battery', field: 'battery_voltage' }]))).toContain('battery <- battery_voltage');
  });

  it('declares only driver keys in its schema fragments', () => {
    const core = ['name', 'driver', 'interval', 'topic', 'tags', 'payload', 'points', 'qos', 'retain', 'unit', 'scale', 'offset', 'deadband', 'heartbeat', 'writable', 'min', 'max'];
    for (const key of [...Object.keys(bleDriver.deviceSchema.properties), ...Object.keys(bleDriver.pointSchema.properties)]) {
      expect(core).not.toContain(key);
    }
  });
});

describe('config helpers and the GATT plan', () => {
  it('normalises UUIDs and paths the way BlueZ spells them', () => {
    expect(normalizeUuid('2A6E')).toBe('00002a6e-0000-1000-8000-00805f9b34fb');
    expect(normalizeUuid('0000FFF1')).toBe('0000fff1-0000-1000-8000-00805f9b34fb');
    expect(shortUuid('0000fff1-0000-1000-8000-00805f9b34fb')).toBe('fff1');
    expect(shortUuid('6e400001-b5a3-f393-e0a9-e50e24dcca9e')).toBe('6e400001-b5a3-f393-e0a9-e50e24dcca9e');
    expect(devicePath('hci0', 'c4:7c:8d:6a:12:34')).toBe('/org/bluez/hci0/dev_C4_7C_8D_6A_12_34');
  });

  it('groups points sharing a characteristic and decodes them from one value', () => {
    const plan = compileGattPlan(
      gattDevice({
        points: [
          { name: 't', service: 'ebe0ccb0-7a0a-4b0c-8a1a-6ff2997da3a6', characteristic: 'ebe0ccc1-7a0a-4b0c-8a1a-6ff2997da3a6', mode: 'notify', type: 'int16le' },
          { name: 'h', service: 'EBE0CCB0-7A0A-4B0C-8A1A-6FF2997DA3A6', characteristic: 'ebe0ccc1-7a0a-4b0c-8a1a-6ff2997da3a6', mode: 'notify', type: 'uint8', byte_offset: 2 },
          { name: 'v', service: 'ebe0ccb0-7a0a-4b0c-8a1a-6ff2997da3a6', characteristic: 'ebe0ccc1-7a0a-4b0c-8a1a-6ff2997da3a6', mode: 'notify', type: 'uint16le', byte_offset: 3 },
        ],
      }),
    );
    expect(plan.groups).toHaveLength(1);
    expect(plan.polled).toBe(false);
    const readings = readingsFromValue(plan.groups[0]!.points, Buffer.from('2a0937b80b', 'hex'), 1000);
    expect(readings).toEqual([
      { point: 't', value: 2346, ts: 1000, quality: 'good' },
      { point: 'h', value: 55, ts: 1000, quality: 'good' },
      { point: 'v', value: 3000, ts: 1000, quality: 'good' },
    ]);
    const short = readingsFromValue(plan.groups[0]!.points, Buffer.from('2a09', 'hex'), 1000);
    expect(short[0]!.quality).toBe('good');
    expect(short[1]).toMatchObject({ point: 'h', value: null, quality: 'bad', error: expect.stringMatching(/needs 3/) });
  });
});
